package lb

import (
	"bufio"
	"strings"
	"testing"
)

func parseRequest(s string) (*head, error) {
	h := &head{}
	return h, h.readRequest(bufio.NewReader(strings.NewReader(s)))
}

func TestReadRequest(t *testing.T) {
	t.Parallel()
	h, err := parseRequest("\r\nGET /a?b HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, X-A\r\nX-A: 1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if string(h.bytes(h.method)) != "GET" || string(h.bytes(h.target)) != "/a?b" || h.minor != 1 || h.length != 5 || h.close {
		t.Fatalf("%+v", h)
	}
	if f := &h.fields[2]; !h.isHopByHop(f) || string(h.bytes(f.name)) != "X-A" {
		t.Fatal("X-A, named by Connection, is not hop-by-hop")
	}
	h, err = parseRequest("GET / HTTP/1.0\n\n") // bare LF lines are accepted in heads
	if err != nil || !h.close || h.hasHost {
		t.Fatalf("HTTP/1.0: %v %+v", err, h)
	}
	for in, want := range map[string]int{
		"GET / HTTP/2.0\r\n\r\n":                                                       505,
		"GET /  HTTP/1.1\r\nHost: x\r\n\r\n":                                           400,
		"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n":                                 400,
		"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n":                               400,
		"GET / HTTP/1.1\r\nHost: x\r\nExpect: x\r\n\r\n":                               417,
		"CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n":                                    405,
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n":    400,
		"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", maxHead) + "\r\n\r\n": 431,
	} {
		_, err := parseRequest(in)
		he, ok := err.(*headError)
		if !ok || he.status != want {
			t.Errorf("%.40q: %v, want %d", in, err, want)
		}
	}
}

// FuzzReadRequest checks that no input panics the parser and that whatever
// it accepts has unambiguous framing.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive, upgrade\r\nUpgrade: ws\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		h, err := parseRequest(in)
		if err != nil {
			return
		}
		if h.length >= 0 && h.chunked {
			t.Fatal("accepted both a length and chunked")
		}
		if h.minor == 1 && !h.hasHost {
			t.Fatal("accepted HTTP/1.1 without Host")
		}
		for _, f := range h.fields {
			if strings.ContainsAny(string(h.bytes(f.value)), "\r\n\x00") || !isToken(h.bytes(f.name)) {
				t.Fatalf("accepted field %q: %q", h.bytes(f.name), h.bytes(f.value))
			}
		}
	})
}

func TestChunkSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"a\r\n": 10, "FF ; x=y\r\n": 255, "0\r\n": 0, "\r\n": -1, "x\r\n": -1, "1\n": -1, "11111111111111111\r\n": -1} {
		w := bufio.NewWriter(nil)
		n, rerr, _ := chunkSize(w, bufio.NewReader(strings.NewReader(in)))
		if (want < 0) != (rerr != nil) || (want >= 0 && int64(n) != want) {
			t.Errorf("%q: %d %v, want %d", in, n, rerr, want)
		}
	}
}
