package planner

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

func resources(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

// quotaPod is a CreatePod action of a Pod with one container.
func quotaPod(name string, req, lim corev1.ResourceList) Action {
	wl := &config.Workload{Key: config.Key{Namespace: "red-team", Kind: "Pod", Name: name}}
	wl.Template.Spec.Containers = []corev1.Container{{Name: "nginx-" + name,
		Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}
	return Action{Type: CreatePod, Namespace: "red-team", Pod: name, Owner: wl.Key, Workload: wl}
}

// redTeam is the guide's quota, in binary memory units.
var redTeam = Quota{Namespace: "red-team", Name: "red-team-resource-quota", Hard: resources(
	"pods", "5", "requests.cpu", "2", "requests.memory", "1Gi", "limits.cpu", "4", "limits.memory", "2Gi")}

func TestAdmitQuotaRedTeam(t *testing.T) {
	illegal := quotaPod("pod-illegal", nil, nil)
	one := quotaPod("pod-one", resources("memory", "768Mi", "cpu", "0.5"), resources("memory", "1Gi", "cpu", "2"))
	two := quotaPod("pod-two", resources("memory", "512Mi", "cpu", "0.5"), resources("memory", "1Gi", "cpu", "1"))
	used := map[string]corev1.ResourceList{}
	kept, refused := AdmitQuota([]Quota{redTeam}, used, []Action{illegal, one, two})
	if len(kept) != 1 || kept[0].Pod != "pod-one" {
		t.Fatalf("admitted %v, want pod-one only", brief(kept))
	}
	want := []string{
		`pods "pod-illegal" is forbidden: failed quota: red-team-resource-quota: must specify limits.cpu for: nginx-pod-illegal; limits.memory for: nginx-pod-illegal; requests.cpu for: nginx-pod-illegal; requests.memory for: nginx-pod-illegal`,
		`pods "pod-two" is forbidden: exceeded quota: red-team-resource-quota, requested: requests.memory=512Mi, used: requests.memory=768Mi, limited: requests.memory=1Gi`,
	}
	var got []string
	for _, r := range refused {
		got = append(got, r.Message)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("refusals:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The admitted pod counts: describe quota shows it.
	u := used["red-team"]
	for r, want := range map[corev1.ResourceName]string{"pods": "1", "requests.cpu": "500m", "requests.memory": "768Mi", "limits.cpu": "2", "limits.memory": "1Gi"} {
		if q := u[r]; q.String() != want {
			t.Errorf("used %s = %s, want %s", r, q.String(), want)
		}
	}
}

func TestAdmitQuotaCountsPodsAndExistingUsage(t *testing.T) {
	q := Quota{Namespace: "red-team", Name: "few", Hard: resources("pods", "2", "limits.memory", "1Gi")}
	small := resources("memory", "256Mi")
	// Limits only: the request defaults to the limit, so nothing is missing.
	a, b, c := quotaPod("a", nil, small), quotaPod("b", nil, small), quotaPod("c", nil, small)
	used := map[string]corev1.ResourceList{"red-team": resources("pods", "1", "limits.memory", "512Mi")}
	kept, refused := AdmitQuota([]Quota{q}, used, []Action{a, b, c})
	if len(kept) != 1 || kept[0].Pod != "a" || len(refused) != 2 {
		t.Fatalf("admitted %v, refused %+v", brief(kept), refused)
	}
	if want := `pods "b" is forbidden: exceeded quota: few, requested: pods=1, used: pods=2, limited: pods=2`; refused[0].Message != want {
		t.Errorf("got %q, want %q", refused[0].Message, want)
	}
	// Other namespaces and other actions pass untouched.
	other := quotaPod("elsewhere", nil, nil)
	other.Namespace = "blue-team"
	kept, refused = AdmitQuota([]Quota{q}, map[string]corev1.ResourceList{}, []Action{other, {Type: RemovePod, Namespace: "red-team", Pod: "x"}})
	if len(kept) != 2 || len(refused) != 0 {
		t.Errorf("admitted %v, refused %+v", brief(kept), refused)
	}
}

func TestPodUsage(t *testing.T) {
	spec := &corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{Requests: resources("cpu", "3")}}},
		Containers: []corev1.Container{
			{Name: "a", Resources: corev1.ResourceRequirements{Requests: resources("cpu", "250m", "memory", "1.5Gi")}},
			{Name: "b", Resources: corev1.ResourceRequirements{Limits: resources("cpu", "1", "memory", "512Mi")}},
		},
	}
	u := PodUsage(spec)
	for r, want := range map[corev1.ResourceName]string{
		"requests.cpu": "3", "cpu": "3", // the init container needs more than the app containers together
		"requests.memory": "2Gi", "memory": "2Gi", // 1.5Gi + 512Mi (b requests its limit)
		"limits.cpu": "1", "limits.memory": "512Mi", "pods": "1",
	} {
		if q := u[corev1.ResourceName(r)]; q.String() != want {
			t.Errorf("%s = %s, want %s", r, q.String(), want)
		}
	}
}

func TestQuotaUsedSkipsFinishedAndTerminating(t *testing.T) {
	running := pod("Pod", "a", "a", "h", runtime.StateRunning, t0)
	done := exitedPod("b", 0, 0)
	done.RestartPolicy = "Never"
	gone := terminating(pod("Pod", "c", "c", "h", runtime.StateRunning, t0))
	one := func(*runtime.Pod) corev1.ResourceList { return resources("pods", "1") }
	used := QuotaUsed([]runtime.Pod{running, done, gone}, one)
	if q := used["ns"]["pods"]; q.String() != "1" {
		t.Errorf("pods used = %s, want 1 (the running one)", q.String())
	}
}
