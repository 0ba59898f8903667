package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/api"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/fleet"
	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/planner"
)

// freeGossipPort returns a port free for both TCP and UDP on addr, as
// gossip needs both.
func freeGossipPort(t *testing.T, addr string) string {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", addr+":0")
		if err != nil {
			t.Fatal(err)
		}
		hostPort := ln.Addr().String()
		pc, err := net.ListenPacket("udp", hostPort)
		ln.Close()
		if err == nil {
			pc.Close()
			return hostPort
		}
	}
	t.Fatalf("no port free for TCP and UDP on %s", addr)
	return ""
}

func writeKey(t *testing.T, dir, name string) string {
	t.Helper()
	key, err := fleet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// nodesOf asks a daemon for its member list; nil when it does not answer.
func nodesOf(listen string) map[string]api.NodeView {
	var ns []api.NodeView
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := getJSON(ctx, "http://"+listen+"/api/v1/nodes", &ns); err != nil {
		return nil
	}
	m := map[string]api.NodeView{}
	for _, n := range ns {
		m[n.Name] = n
	}
	return m
}

// statuses renders a member list as "name=Status ..." for conditions and
// failure messages.
func statuses(m map[string]api.NodeView) string {
	var s []string
	for _, name := range sortedNames(m) {
		s = append(s, name+"="+m[name].Status)
	}
	return strings.Join(s, " ")
}

func sortedNames(m map[string]api.NodeView) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// fleetNode is one daemon of a fleet started by startFleet.
type fleetNode struct {
	name, addr, gossip, listen string
	args                       []string // the fleet flags it was started with
	p                          *proc
}

// startFleet runs one daemon per node address (127.0.0.2, ...) on src,
// node i labelled zone=z<i>, the others joining the first; it waits until
// every node sees all of them Ready with an applied commit.
func startFleet(t *testing.T, bin, src, key, suffix string, addrs ...string) []*fleetNode {
	t.Helper()
	var nodes []*fleetNode
	token := filepath.Join(filepath.Dir(key), "token")
	if err := os.WriteFile(token, []byte("fleet-test-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, addr := range addrs {
		n := &fleetNode{name: fmt.Sprintf("%c-%s", 'a'+i, suffix), addr: addr}
		n.gossip, n.listen = freeGossipPort(t, n.addr), freePort(t)
		n.args = []string{"--node-address", n.addr, "--fleet-bind", n.gossip, "--fleet-key-file", key,
			"--fleet-local-timing", "--node-not-ready-after", "3s", "--node-labels", fmt.Sprintf("zone=z%d", i),
			"--token-file", token, "--state-dir", t.TempDir()}
		if i > 0 {
			n.args = append(n.args, "--join", nodes[0].gossip)
		}
		// Registered first, so it runs after the daemon is killed.
		t.Cleanup(func() { testenv.Cleanup(t, testenv.Podman(t), n.name) })
		n.p = startDaemon(t, bin, src, n.name, n.listen, n.args...)
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		waitFor(t, 60*time.Second, "every member Ready with its applied commit, seen from "+n.name, n.p.log, func() bool {
			m := nodesOf(n.listen)
			ok := len(m) == len(nodes)
			for _, o := range nodes {
				ok = ok && m[o.name].Status == "Ready" && m[o.name].Applied != ""
			}
			return ok
		})
	}
	return nodes
}

// TestFleetMembership runs three daemons as a fleet on one host (node
// addresses 127.0.0.2-4): they find each other by gossip, publish their
// labels, capacity and applied commit, refuse a node with another key, and
// mark a killed node NotReady after the timeout.
func TestFleetMembership(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "manifests")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("fleet-%d", time.Now().UnixNano()%1e9)
	writeAtomic(t, filepath.Join(src, "cm.yaml"), fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %[1]s}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: %[1]s}\ndata: {a: b}\n", ns))
	key := writeKey(t, dir, "fleet.key")
	suffix := ns[len("fleet-"):]
	nodes := startFleet(t, bin, src, key, suffix, "127.0.0.2", "127.0.0.3", "127.0.0.4")
	m := nodesOf(nodes[0].listen)
	b := m[nodes[1].name]
	if b.Address != "127.0.0.3" || b.Labels["zone"] != "z1" || b.Labels["kubernetes.io/hostname"] != nodes[1].name ||
		b.CPU == "" || b.Memory == "" || b.Pods != 0 {
		t.Errorf("node b as a sees it: %+v", b)
	}
	out, err := exec.Command(bin, "get", "nodes", "--server", "http://"+nodes[0].listen, "-l", "zone=z2", "--show-labels").CombinedOutput()
	if err != nil || !hasRow(string(out), nodes[2].name, "Ready", "127.0.0.4", "0") || strings.Contains(string(out), nodes[1].name) ||
		!strings.Contains(string(out), "zone=z2") {
		t.Errorf("get nodes -l zone=z2: %v\n%s", err, out)
	}
	waitMetric(t, nodes[0].listen, regexp.MustCompile(`reconciler_fleet_members\{status="Ready"\} 3`))

	// A node with another key cannot join: it stays a fleet of one.
	other := writeKey(t, dir, "other.key")
	intruder := &fleetNode{name: "x-" + suffix, addr: "127.0.0.5"}
	intruder.gossip, intruder.listen = freeGossipPort(t, intruder.addr), freePort(t)
	intruder.p = startDaemon(t, bin, src, intruder.name, intruder.listen, "--node-address", intruder.addr,
		"--fleet-bind", intruder.gossip, "--fleet-key-file", other, "--fleet-local-timing", "--join", nodes[0].gossip)
	waitFor(t, 30*time.Second, "the intruder reports its failed join", intruder.p.log, func() bool {
		return strings.Contains(intruder.p.log.String(), "fleet join failed")
	})
	if m := nodesOf(nodes[0].listen); len(m) != 3 {
		t.Errorf("a node with another key joined: %s", statuses(m))
	}
	if m := nodesOf(intruder.listen); len(m) != 1 {
		t.Errorf("the intruder sees others: %s", statuses(m))
	}

	// A node killed without leaving turns NotReady after the timeout.
	nodes[2].p.signal(t, syscall.SIGKILL)
	killed := time.Now()
	waitFor(t, 30*time.Second, "c NotReady as seen from a", nodes[0].p.log, func() bool {
		return nodesOf(nodes[0].listen)[nodes[2].name].Status == "NotReady"
	})
	if d := time.Since(killed); d < 3*time.Second {
		t.Errorf("c turned NotReady %v after it was killed, before the 3 s timeout", d)
	}
	waitMetric(t, nodes[0].listen, regexp.MustCompile(fmt.Sprintf(`reconciler_fleet_node_ready\{node="%s"\} 0`, nodes[2].name)))
	nodeAlertFires(t, nodes[2].name)
}

// nodeAlertFires checks with promtool that ReconcilerNodeNotReady fires on
// the series the daemon exported for a NotReady node.
func nodeAlertFires(t *testing.T, node string) {
	t.Helper()
	test := fmt.Sprintf(`rule_files: [%q]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'reconciler_fleet_node_ready{instance="h1",node="%s"}'
        values: '0x5'
    alert_rule_test:
      - eval_time: 3m
        alertname: ReconcilerNodeNotReady
        exp_alerts:
          - exp_labels: {severity: critical, instance: h1, node: %q}
            exp_annotations:
              summary: "Node %s is NotReady as seen from h1"
              description: "It stopped answering gossip: its movable pods go to the other nodes, pinned and stateful pods wait for it. See `+"`reconciler get nodes`"+`."
`, filepath.Join(testenv.RepoRoot(t), "examples", "prometheus", "alerts.yaml"), node, node, node)
	file := filepath.Join(t.TempDir(), "node_test.yaml")
	if err := os.WriteFile(file, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("promtool", "test", "rules", file).CombinedOutput(); err != nil {
		t.Fatalf("the NotReady alert does not fire: %v\n%s\n%s", err, out, test)
	}
}

const fleetManifests = `apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: hello
        image: "localhost/reconciler-hello:v1"
        ports: [{name: web, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /readyz, port: web}
          periodSeconds: 1
          timeoutSeconds: 5
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: %[1]s}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: web}]
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: %[1]s}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 81, targetPort: web}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: zoned, namespace: %[1]s}
spec:
  replicas: 2
  selector: {matchLabels: {app: zoned}}
  template:
    metadata: {labels: {app: zoned}}
    spec:
      nodeSelector: {zone: z1}
      terminationGracePeriodSeconds: 1
      containers:
      - {name: hello, image: "localhost/reconciler-hello:v1"}
---
apiVersion: v1
kind: Pod
metadata: {name: nowhere, namespace: %[1]s}
spec:
  nodeSelector: {zone: elsewhere}
  containers:
  - {name: hello, image: "localhost/reconciler-hello:v1"}
---
apiVersion: v1
kind: Pod
metadata: {name: too-large, namespace: %[1]s}
spec:
  containers:
  - {name: hello, image: "localhost/reconciler-hello:v1", resources: {requests: {memory: 100Ti}}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: data-%[1]s}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  csi: {driver: volume.reconciler.dev, volumeHandle: data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: %[1]s}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: stateful, namespace: %[1]s}
spec:
  replicas: 2
  selector: {matchLabels: {app: stateful}}
  template:
    metadata: {labels: {app: stateful}}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [z0, z2]}]}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
      containers:
      - name: hello
        image: "localhost/reconciler-hello:v1"
        volumeMounts: [{name: data, mountPath: /data}]
`

// TestFleetPlacement places replicas over three nodes: spread 2/2/2, all
// on the one node a nodeSelector matches, Pending with the scheduler's
// message where nothing matches or nothing is large enough; then a node
// dies and its replicas start on the others, except the one that uses a
// claim, which stays NodeLost.
func TestFleetPlacement(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "manifests")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, filepath.Join(src, "apps.yaml"), fmt.Sprintf(fleetManifests, sc.Namespace))
	key := writeKey(t, dir, "fleet.key")
	nodes := startFleet(t, bin, src, key, sc.Node[len("test-"):], "127.0.0.6", "127.0.0.7", "127.0.0.8")
	waitPods(t, rt, nodes[0].name, map[string]int{"web": 2, "stateful": 1}, nodes[0].p.log)
	waitPods(t, rt, nodes[1].name, map[string]int{"web": 2, "zoned": 2}, nodes[1].p.log)
	waitPods(t, rt, nodes[2].name, map[string]int{"web": 2, "stateful": 1}, nodes[2].p.log)
	want := map[string]string{
		"nowhere":   "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
		"too-large": "0/3 nodes are available: 3 Insufficient memory.",
	}
	for _, n := range nodes {
		st := fetchStatus(context.Background(), "http://"+n.listen)
		ok := st != nil && len(st.Unplaced) == len(want)
		for _, u := range st.Unplaced {
			ok = ok && u.Pending == 1 && want[u.Key.Name] == u.Reason
		}
		if !ok {
			t.Errorf("%s: unplaced %+v, want Pending: %v", n.name, st.Unplaced, want)
		}
	}
	var names []string
	for _, n := range nodes {
		for _, p := range podsByOwner(t, rt, n.name)["web"] {
			names = append(names, p.Name)
		}
	}
	if slices.Sort(names); len(slices.Compact(names)) != 6 {
		t.Errorf("web pod names are not unique across the fleet: %v", names)
	}

	// Every node's proxy balances over the pods of all three nodes.
	url := "http://" + loopbackFor(nodes[0].name).String() + ":80/"
	waitEndpoints(t, nodes[0].listen, "web", 6, nodes[0].p.log)
	if seen := spread(t, url, 60, nodes[0].p.log); len(seen) != 6 {
		t.Errorf("requests through node a reached %d pods, want all 6: %v", len(seen), seen)
	}
	checkNodePorts(t, nodes)
	ld := startLoad(t, url, 4, 200000)

	// A lost host: its daemon dies and its containers are gone.
	nodes[2].p.signal(t, syscall.SIGKILL)
	testenv.Cleanup(t, rt, nodes[2].name)
	lost := time.Now()
	waitPods(t, rt, nodes[0].name, map[string]int{"web": 3, "stateful": 1}, nodes[0].p.log)
	waitPods(t, rt, nodes[1].name, map[string]int{"web": 3, "zoned": 2}, nodes[1].p.log)
	t.Logf("replicas of the lost node run on the others %v after it died", time.Since(lost).Round(time.Millisecond))
	// The replica that uses a claim is not moved: two copies of a stateful
	// pod would corrupt its data.
	waitFor(t, 30*time.Second, "the stateful replica of the lost node to show NodeLost", nodes[0].p.log, func() bool {
		st := fetchStatus(context.Background(), "http://"+nodes[0].listen)
		return st != nil && slices.ContainsFunc(st.Unplaced, func(u planner.Unplaced) bool {
			return u.Key.Name == "stateful" && u.NodeLost == 1
		})
	})
	if n := len(podsByOwner(t, rt, nodes[0].name)["stateful"]); n != 1 {
		t.Errorf("node a runs %d stateful replicas after the loss, want 1", n)
	}
	waitEndpoints(t, nodes[0].listen, "web", 6, nodes[0].p.log)
	waitMetric(t, nodes[0].listen, regexp.MustCompile(`reconciler_fleet_nodes_lost_total [1-9]`))
	waitMetric(t, nodes[0].listen, regexp.MustCompile(`reconciler_fleet_placement_changes_total [1-9]`))
	waitMetric(t, nodes[0].listen, regexp.MustCompile(fmt.Sprintf(
		`reconciler_fleet_unplaced_replicas\{kind="Pod",name="nowhere",namespace="%s",state="Pending"\} 1`, sc.Namespace)))

	// It comes back: it joins, starts its share, and the others give theirs
	// up only once its pods are available.
	c := nodes[2]
	c.p = startDaemon(t, bin, src, c.name, c.listen, c.args...)
	min := minAvailable(t, nodes, "web", 6)
	waitPods(t, rt, c.name, map[string]int{"web": 2, "stateful": 1}, c.p.log)
	waitPods(t, rt, nodes[0].name, map[string]int{"web": 2, "stateful": 1}, nodes[0].p.log)
	waitPods(t, rt, nodes[1].name, map[string]int{"web": 2, "zoned": 2}, nodes[1].p.log)
	if low := min(); low < 6 {
		t.Errorf("available web pods fell to %d during the rejoin, want never below 6 (maxUnavailable 25%% of 6 is 1, handover keeps all)", low)
	}
	drainNode(t, bin, nodes, key, sc.Namespace)
	waitPods(t, rt, nodes[0].name, map[string]int{"web": 2, "stateful": 1}, nodes[0].p.log)
	waitPods(t, rt, nodes[1].name, map[string]int{"web": 2, "zoned": 2}, nodes[1].p.log)
	waitPods(t, rt, nodes[2].name, map[string]int{"web": 2, "stateful": 1}, nodes[2].p.log)
	ok, failed, errs := ld.stop()
	t.Logf("%d requests through node a during the failover, the rejoin and the drain, %d failed", ok+failed, failed)
	if failed > 0 || ok < 100 {
		t.Errorf("%d of %d requests failed; first errors: %v\nnode a log:\n%s", failed, ok+failed, errs, nodes[0].p.log)
	}
}

// checkNodePorts calls the NodePort Service on every node's address.
func checkNodePorts(t *testing.T, nodes []*fleetNode) {
	t.Helper()
	var port int32
	if st := fetchStatus(context.Background(), "http://"+nodes[0].listen); st != nil {
		for _, e := range st.Endpoints {
			if e.Name == "np" && len(e.Ports) == 1 {
				port = e.Ports[0].NodePort
			}
		}
	}
	if port == 0 {
		t.Fatal("the NodePort Service has no node port")
	}
	for _, n := range nodes {
		url := fmt.Sprintf("http://%s:%d/", n.addr, port)
		if code, body, err := httpGet(url); err != nil || code != 200 || !strings.HasPrefix(body, "hello from web-") {
			t.Errorf("NodePort on node %s (%s): %d %q %v", n.name, url, code, body, err)
		}
	}
}

// drainNode drains node b through node a's API: its web replicas move to
// a and c, its zoned replicas (only b matches their selector) go Pending;
// then it is uncordoned.
func drainNode(t *testing.T, bin string, nodes []*fleetNode, key, ns string) {
	t.Helper()
	rt := testenv.Podman(t)
	a, b, c := nodes[0], nodes[1], nodes[2]
	token := filepath.Join(filepath.Dir(key), "token")
	out, err := exec.Command(bin, "drain", b.name, "--server", "http://"+a.listen, "--token-file", token, "--timeout", "90s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "node/"+b.name+" drained") || strings.Count(string(out), " evicted") != 4 {
		st, _ := json.MarshalIndent(fetchStatus(context.Background(), "http://"+b.listen), "", " ")
		t.Fatalf("drain: %v\n%s\nnode b status:\n%s\nnode b log:\n%s", err, out, st, b.p.log)
	}
	if pods := podsByOwner(t, rt, b.name); len(pods) != 0 {
		t.Errorf("node b still runs %v after the drain", pods)
	}
	waitPods(t, rt, a.name, map[string]int{"web": 3, "stateful": 1}, a.p.log)
	waitPods(t, rt, c.name, map[string]int{"web": 3, "stateful": 1}, c.p.log)
	want := "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector."
	st := fetchStatus(context.Background(), "http://"+a.listen)
	if st == nil || !slices.ContainsFunc(st.Unplaced, func(u planner.Unplaced) bool { return u.Key.Name == "zoned" && u.Pending == 2 && u.Reason == want }) {
		t.Errorf("zoned is not Pending with %q: %+v", want, st)
	}
	got, err := exec.Command(bin, "get", "nodes", "--server", "http://"+a.listen).CombinedOutput()
	if err != nil || !hasRow(string(got), b.name, "Ready,SchedulingDisabled") {
		t.Errorf("get nodes after the drain: %v\n%s", err, got)
	}
	if out, err := exec.Command(bin, "uncordon", b.name, "--server", "http://"+a.listen, "--token-file", token).CombinedOutput(); err != nil {
		t.Fatalf("uncordon: %v\n%s", err, out)
	}
}

// minAvailable samples the fleet's available pods of a workload (as the
// nodes report them to each other) until the returned function is called,
// and returns the lowest sum seen.
func minAvailable(t *testing.T, nodes []*fleetNode, name string, want int32) func() int32 {
	t.Helper()
	low, stop, done := want, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			var sum int32
			for _, n := range nodes {
				var r executor.PeerReport
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				err := getJSON(ctx, "http://"+n.listen+"/api/v1/peer", &r)
				cancel()
				if err == nil {
					for k, v := range r.Available {
						if strings.HasSuffix(k, "/Deployment/"+name) {
							sum += v
						}
					}
				}
			}
			low = min(low, sum)
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() int32 { close(stop); <-done; return low }
}

// TestFleetCommitAgreement gives two nodes their own copy of the
// manifests: a change that one node has seen and the other has not is not
// applied, until both have it.
func TestFleetCommitAgreement(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	key := writeKey(t, dir, "fleet.key")
	manifest := func(replicas int) string { return fmt.Sprintf(deploy, "web", sc.Namespace, replicas) }
	// Both nodes start on the same content, each from its own directory.
	srcs := []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}
	for _, s := range srcs {
		if err := os.Mkdir(s, 0o755); err != nil {
			t.Fatal(err)
		}
		writeAtomic(t, filepath.Join(s, "web.yaml"), manifest(2))
		testenv.DeclareNamespace(t, s, sc.Node)
	}
	suffix := sc.Node[len("test-"):]
	var nodes []*fleetNode
	for i, addr := range []string{"127.0.0.9", "127.0.0.10"} {
		n := &fleetNode{name: fmt.Sprintf("%c-%s", 'a'+i, suffix), addr: addr}
		n.gossip, n.listen = freeGossipPort(t, addr), freePort(t)
		args := []string{"--node-address", addr, "--fleet-bind", n.gossip, "--fleet-key-file", key,
			"--fleet-local-timing", "--node-not-ready-after", "3s"}
		if i > 0 {
			args = append(args, "--join", nodes[0].gossip)
		}
		t.Cleanup(func() { testenv.Cleanup(t, rt, n.name) })
		n.p = startDaemon(t, bin, srcs[i], n.name, n.listen, args...)
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		waitPods(t, rt, n.name, map[string]int{"web": 1}, n.p.log)
	}
	applied := func(n *fleetNode) string { return nodesOf(nodes[0].listen)[n.name].Applied }
	first := applied(nodes[0])

	// Node a sees 4 replicas; b does not yet: nothing changes.
	writeAtomic(t, filepath.Join(srcs[0], "web.yaml"), manifest(4))
	waitFor(t, 30*time.Second, "node a logs that it waits for b", nodes[0].p.log, func() bool {
		return strings.Contains(nodes[0].p.log.String(), "waiting for every node to fetch the newest commit")
	})
	for range 3 { // a few passes: none may apply the new commit
		before := fetchStatus(context.Background(), "http://"+nodes[0].listen).LastSync
		waitFor(t, 30*time.Second, "another pass of node a", nodes[0].p.log, func() bool {
			st := fetchStatus(context.Background(), "http://"+nodes[0].listen)
			return st != nil && st.LastSync.After(before)
		})
	}
	if got := len(podsByOwner(t, rt, nodes[0].name)["web"]); got != 1 || applied(nodes[0]) != first {
		t.Fatalf("node a applied a commit node b has not fetched: %d pods, commit %s (was %s)", got, applied(nodes[0]), first)
	}
	// Now b has it too: both apply it.
	writeAtomic(t, filepath.Join(srcs[1], "web.yaml"), manifest(4))
	for _, n := range nodes {
		waitPods(t, rt, n.name, map[string]int{"web": 2}, n.p.log)
	}
	if a, b := applied(nodes[0]), applied(nodes[1]); a == first || a != b {
		t.Errorf("after both fetched: a applied %s, b %s (first %s)", a, b, first)
	}
}
