package podman_test

import (
	"context"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/podman"
)

// TestOOMKilled runs a container past its memory limit on the real engine:
// the kernel kills it, and Observe reports OOMKilled, also to another
// client (a restarted daemon, the CLI). A container that exits by itself
// under a limit is not reported so.
func TestOOMKilled(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spec := runtime.PodSpec{Namespace: sc.Namespace, Name: "hog", Node: sc.Node,
		Owner: runtime.Owner{Kind: "Pod", Name: "hog"}, RestartPolicy: "Never", GracePeriod: time.Second}
	podID, err := rt.CreatePod(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		id, err := rt.CreateContainer(ctx, runtime.ContainerSpec{PodID: podID, Pod: spec, Name: name,
			Image: "localhost/reconciler-toolbox:v1", Args: args, Resources: runtime.Resources{MemoryLimit: 32 << 20}})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	run("hog", "alloc", "96")
	run("calm", "exit", "0")
	other := podman.New(testenv.URI())
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		obs, err := other.Observe(ctx, sc.Node)
		if err != nil {
			t.Fatal(err)
		}
		var hog, calm *runtime.Container
		if len(obs.Pods) == 1 {
			hog, calm = obs.Pods[0].Current("hog"), obs.Pods[0].Current("calm")
		}
		if hog != nil && calm != nil && hog.State == runtime.StateExited && calm.State == runtime.StateExited {
			if !hog.OOMKilled || hog.ExitCode != 137 {
				t.Errorf("hog: exit %d, OOMKilled %v; want 137 and true", hog.ExitCode, hog.OOMKilled)
			}
			if calm.OOMKilled {
				t.Errorf("calm reported OOMKilled")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("containers did not exit: %+v", obs.Pods)
		}
	}
}
