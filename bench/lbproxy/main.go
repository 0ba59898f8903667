// Command lbproxy runs package lb on its own for the benchmark: one Service
// listening at -listen over the endpoints given by -backends.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/reconciler/reconciler/lb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18080", "Service address and port")
	backends := flag.String("backends", "127.0.0.1:18081", "comma-separated endpoint addresses")
	proto := flag.String("protocol", "http", "http, h2c or tcp")
	policy := flag.String("policy", "round-robin", "round-robin or least-requests")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	ap, err := netip.ParseAddrPort(*listen)
	if err != nil {
		log.Fatal(err)
	}
	port := lb.Port{Name: "http", Port: int32(ap.Port()), Protocol: map[string]lb.Protocol{"http": lb.ProtocolHTTP, "h2c": lb.ProtocolH2C, "tcp": lb.ProtocolTCP}[*proto]}
	for i, b := range strings.Split(*backends, ",") {
		port.Endpoints = append(port.Endpoints, lb.Endpoint{Key: fmt.Sprint("pod-", i), Addr: b})
	}
	svc := lb.Service{Namespace: "bench", Name: "backend", Addresses: []netip.Addr{ap.Addr()}, Ports: []lb.Port{port}}
	if *policy == "least-requests" {
		svc.Policy = lb.PolicyLeastRequests
	}
	p, err := lb.New(lb.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Update([]lb.Service{svc}); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if err := p.Close(); err != nil {
		log.Print(err)
	}
}
