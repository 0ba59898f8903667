package executor_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
)

const benchSurge = 3

// BenchmarkRollingUpdate10 measures one rolling update of 10 replicas
// (maxSurge 3, maxUnavailable 0) on the real engine, alternating between two
// images, against the floor ceil(10/maxSurge) × the time one pod takes to be
// created and run (measured in the same run). Run with -benchtime=3x.
func BenchmarkRollingUpdate10(b *testing.B) {
	rt, sc := testenv.Integration(b)
	floor := podStartTime(b, rt, sc) * time.Duration(math.Ceil(10.0/benchSurge))
	dir := b.TempDir()
	images := []string{"localhost/reconciler-hello:v1", "localhost/reconciler-hello:v2"}
	write := func(image string) {
		writeFile(b, dir, "web.yaml", fmt.Sprintf(benchYAML, sc.Namespace, benchSurge, image))
	}
	write(images[0])
	daemonB(b, rt, sc.Node, dir)
	waitImage(b, rt, sc.Node, images[0])
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		img := images[(i+1)%2]
		start := time.Now()
		write(img)
		waitImage(b, rt, sc.Node, img)
		total += time.Since(start)
	}
	b.StopTimer()
	per := total / time.Duration(b.N)
	b.ReportMetric(per.Seconds(), "s/rollout")
	b.ReportMetric(floor.Seconds(), "s/floor")
	b.ReportMetric(per.Seconds()/floor.Seconds(), "x-floor")
}

const benchYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: 10
  strategy: {rollingUpdate: {maxSurge: %[2]d, maxUnavailable: 0}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: hello, image: "%[3]s", imagePullPolicy: IfNotPresent, ports: [{containerPort: 8080}]}
`

// podStartTime is how long one pod takes from creation to running.
func podStartTime(b *testing.B, rt runtime.Runtime, sc testenv.Scope) time.Duration {
	ctx := context.Background()
	spec := runtime.PodSpec{Namespace: sc.Namespace, Name: "floor", Node: sc.Node,
		Owner: runtime.Owner{Kind: "Pod", Name: "floor"}, Ports: []runtime.PortSpec{{ContainerPort: 8080, Protocol: "TCP"}}}
	start := time.Now()
	id, err := rt.CreatePod(ctx, spec)
	if err != nil {
		b.Fatal(err)
	}
	cid, err := rt.CreateContainer(ctx, runtime.ContainerSpec{PodID: id, Pod: spec, Name: "hello", Image: "localhost/reconciler-hello:v1"})
	if err == nil {
		err = rt.StartContainer(ctx, cid)
	}
	if err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	if err := rt.RemovePod(ctx, id, 0); err != nil {
		b.Fatal(err)
	}
	return d
}

func waitImage(b *testing.B, rt runtime.Runtime, node, image string) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		obs, err := rt.Observe(context.Background(), node)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, p := range obs.Pods {
			if c := p.Current("hello"); c != nil && c.Image == image && c.State == runtime.StateRunning {
				n++
			}
		}
		if n == 10 && len(obs.Pods) == 10 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("rollout to %s did not finish", image)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
