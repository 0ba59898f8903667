package lb

import (
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRoundRobinSpreadsEvenly(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	s := service(t, ProtocolHTTP, backend(t, named("a")), backend(t, named("b")), backend(t, named("c")))
	update(t, p, s)
	c := client(t)
	count := map[string]int{}
	for range 300 {
		code, body := get(t, c, "http://"+addrOf(s)+"/")
		if code != 200 {
			t.Fatalf("status %d", code)
		}
		count[body]++
	}
	if count["a"] != 100 || count["b"] != 100 || count["c"] != 100 {
		t.Fatalf("spread %v, want 100 each", count)
	}
}

func TestLeastRequestsPrefersTheIdleEndpoint(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	release := make(chan struct{})
	var slowIn atomic.Int32
	slow := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowIn.Add(1)
		<-release
		w.Write([]byte("slow"))
	}))
	s := service(t, ProtocolHTTP, slow, backend(t, named("fast")))
	s.Policy = PolicyLeastRequests
	update(t, p, s)
	c := client(t)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	for slowIn.Load() == 0 { // until one request sits on the slow endpoint
		wg.Add(1)
		go func() { defer wg.Done(); get(t, c, "http://"+addrOf(s)+"/") }()
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 20 {
		if _, body := get(t, c, "http://"+addrOf(s)+"/"); body != "fast" {
			t.Fatalf("request %d went to %q while the slow endpoint was busy", i, body)
		}
	}
}

func TestClientIPAffinitySticksAndMoves(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	addrs := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		addrs[n] = backend(t, named(n))
	}
	s := service(t, ProtocolHTTP, addrs["a"], addrs["b"], addrs["c"])
	s.AffinityTimeout = time.Hour
	update(t, p, s)
	c := client(t)
	stick := func() string {
		t.Helper()
		_, first := get(t, c, "http://"+addrOf(s)+"/")
		for range 20 {
			if _, body := get(t, c, "http://"+addrOf(s)+"/"); body != first {
				t.Fatalf("moved from %q to %q", first, body)
			}
		}
		return first
	}
	first := stick()
	var rest []string
	for n, a := range addrs {
		if n != first {
			rest = append(rest, a)
		}
	}
	s.Ports[0].Endpoints = endpoints(rest...)
	update(t, p, s)
	if second := stick(); second == first {
		t.Fatalf("stayed on %q after it left", first)
	}
}

func TestAffinityExpires(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	pt := newPort(portKey{}, func() time.Time { return now })
	a, b := newEndpoint(Endpoint{Key: "a"}), newEndpoint(Endpoint{Key: "b"})
	set := &epSet{eps: []*endpoint{a, b}, protocol: ProtocolHTTP, affinity: time.Minute}
	client := netip.MustParseAddr("192.0.2.7")
	first := pt.choose(set, client, nil)
	now = now.Add(59 * time.Second)
	if got := pt.choose(set, client, nil); got != first {
		t.Fatal("moved within the timeout")
	}
	now = now.Add(59 * time.Second) // the timeout counts from the last use
	if got := pt.choose(set, client, nil); got != first {
		t.Fatal("moved within the timeout of the last use")
	}
	now = now.Add(2 * time.Minute)
	pt.aff.sweep(now)
	if len(pt.aff.m) != 0 {
		t.Fatalf("expired entry kept: %v", pt.aff.m)
	}
}

func TestTCPFallsBackToRoundRobin(t *testing.T) {
	t.Parallel()
	pt := newPort(portKey{}, time.Now)
	a, b := newEndpoint(Endpoint{Key: "a"}), newEndpoint(Endpoint{Key: "b"})
	a.active.Store(5)
	set := &epSet{eps: []*endpoint{a, b}, protocol: ProtocolTCP, policy: PolicyLeastRequests}
	seen := map[*endpoint]int{}
	for range 10 {
		seen[pt.choose(set, netip.Addr{}, nil)]++
	}
	if seen[a] != 5 || seen[b] != 5 {
		t.Fatalf("TCP with least-requests: %d/%d, want round robin", seen[a], seen[b])
	}
}

func TestUpdateMidLoadLosesNoRequest(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	var addrs []string
	for _, n := range []string{"a", "b", "c"} {
		addrs = append(addrs, backend(t, named(n)))
	}
	s := service(t, ProtocolHTTP, addrs...)
	update(t, p, s)
	c := client(t)
	const workers, each = 8, 250 // 2000 requests
	var failed atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				resp, err := c.Get("http://" + addrOf(s) + "/")
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				}
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for i := 0; ; i++ {
		select {
		case <-done:
			if n := failed.Load(); n != 0 {
				t.Fatalf("%d of %d requests failed while the set changed", n, workers*each)
			}
			return
		default:
		}
		s.Ports[0].Endpoints = endpoints(addrs[i%3], addrs[(i+1)%3])
		if err := p.Update([]Service{s}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
}
