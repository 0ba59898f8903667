package config

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// defaultCases lists valid manifests of every kind, with a few of the defaults each gets.
var defaultCases = []struct {
	name     string
	manifest string
	wantKey  Key
	check    func(t *testing.T, obj any)
}{
	{
		name: "pod gets namespace, restart, grace, dns, pull policy and port protocol",
		manifest: `
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 80}]
  - name: side
    image: busybox:1.36
  - name: pinned
    image: registry.example.com:5000/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  - name: latest
    image: nginx:latest
`,
		wantKey: Key{Namespace: "default", Kind: "Pod", Name: "web"},
		check: func(t *testing.T, obj any) {
			p := obj.(*corev1.Pod)
			s := p.Spec
			expect(t, "restartPolicy", s.RestartPolicy, corev1.RestartPolicyAlways)
			expect(t, "terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds, int64(30))
			expect(t, "dnsPolicy", s.DNSPolicy, corev1.DNSClusterFirst)
			expect(t, "schedulerName", s.SchedulerName, "default-scheduler")
			expect(t, "pull policy, no tag", s.Containers[0].ImagePullPolicy, corev1.PullAlways)
			expect(t, "pull policy, tag", s.Containers[1].ImagePullPolicy, corev1.PullIfNotPresent)
			expect(t, "pull policy, digest", s.Containers[2].ImagePullPolicy, corev1.PullIfNotPresent)
			expect(t, "pull policy, latest", s.Containers[3].ImagePullPolicy, corev1.PullAlways)
			expect(t, "protocol", s.Containers[0].Ports[0].Protocol, corev1.ProtocolTCP)
			expect(t, "terminationMessagePath", s.Containers[0].TerminationMessagePath, "/dev/termination-log")
			expect(t, "terminationMessagePolicy", s.Containers[0].TerminationMessagePolicy, corev1.TerminationMessageReadFile)
		},
	},
	{
		name: "deployment gets apps/v1 defaults",
		manifest: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.25}]
`,
		wantKey: Key{Namespace: "shop", Kind: "Deployment", Name: "web"},
		check: func(t *testing.T, obj any) {
			d := obj.(*appsv1.Deployment)
			expect(t, "replicas", *d.Spec.Replicas, int32(1))
			expect(t, "strategy", d.Spec.Strategy.Type, appsv1.RollingUpdateDeploymentStrategyType)
			expect(t, "maxSurge", *d.Spec.Strategy.RollingUpdate.MaxSurge, intstr.FromString("25%"))
			expect(t, "maxUnavailable", *d.Spec.Strategy.RollingUpdate.MaxUnavailable, intstr.FromString("25%"))
			expect(t, "revisionHistoryLimit", *d.Spec.RevisionHistoryLimit, int32(10))
			expect(t, "progressDeadlineSeconds", *d.Spec.ProgressDeadlineSeconds, int32(600))
			expect(t, "template restartPolicy", d.Spec.Template.Spec.RestartPolicy, corev1.RestartPolicyAlways)
		},
	},
	{
		name: "replication controller selector and labels come from the template",
		manifest: `
apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
`,
		wantKey: Key{Namespace: "default", Kind: "ReplicationController", Name: "web"},
		check: func(t *testing.T, obj any) {
			rc := obj.(*corev1.ReplicationController)
			expect(t, "replicas", *rc.Spec.Replicas, int32(1))
			expect(t, "selector", rc.Spec.Selector["app"], "web")
			expect(t, "labels", rc.Labels["app"], "web")
		},
	},
	{
		name: "service gets type, protocol and targetPort",
		manifest: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80}
  - {name: admin, port: 9000, targetPort: admin}
`,
		wantKey: Key{Namespace: "default", Kind: "Service", Name: "web"},
		check: func(t *testing.T, obj any) {
			s := obj.(*corev1.Service)
			expect(t, "type", s.Spec.Type, corev1.ServiceTypeClusterIP)
			expect(t, "sessionAffinity", s.Spec.SessionAffinity, corev1.ServiceAffinityNone)
			expect(t, "protocol", s.Spec.Ports[0].Protocol, corev1.ProtocolTCP)
			expect(t, "targetPort from port", s.Spec.Ports[0].TargetPort, intstr.FromInt32(80))
			expect(t, "named targetPort kept", s.Spec.Ports[1].TargetPort, intstr.FromString("admin"))
		},
	},
	{
		name: "job gets completions, parallelism and backoffLimit",
		manifest: `
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: run, image: alpine:3}]
`,
		wantKey: Key{Namespace: "default", Kind: "Job", Name: "once"},
		check: func(t *testing.T, obj any) {
			j := obj.(*batchv1.Job)
			expect(t, "completions", *j.Spec.Completions, int32(1))
			expect(t, "parallelism", *j.Spec.Parallelism, int32(1))
			expect(t, "backoffLimit", *j.Spec.BackoffLimit, int32(6))
			expect(t, "suspend", *j.Spec.Suspend, false)
		},
	},
	{
		name: "cronjob gets policy, suspend and history limits",
		manifest: `
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: run, image: alpine:3}]
`,
		wantKey: Key{Namespace: "default", Kind: "CronJob", Name: "nightly"},
		check: func(t *testing.T, obj any) {
			c := obj.(*batchv1.CronJob)
			expect(t, "concurrencyPolicy", c.Spec.ConcurrencyPolicy, batchv1.AllowConcurrent)
			expect(t, "suspend", *c.Spec.Suspend, false)
			expect(t, "successfulJobsHistoryLimit", *c.Spec.SuccessfulJobsHistoryLimit, int32(3))
			expect(t, "failedJobsHistoryLimit", *c.Spec.FailedJobsHistoryLimit, int32(1))
			expect(t, "template pull policy", c.Spec.JobTemplate.Spec.Template.Spec.Containers[0].ImagePullPolicy, corev1.PullIfNotPresent)
		},
	},
	{
		name: "namespace is cluster-scoped",
		manifest: `
apiVersion: v1
kind: Namespace
metadata: {name: red-team}
spec: {}
`,
		wantKey: Key{Kind: "Namespace", Name: "red-team"},
		check:   func(t *testing.T, obj any) {},
	},
	{
		name: "configmap",
		manifest: `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {color: blue, app.properties: "a=b"}
`,
		wantKey: Key{Namespace: "shop", Kind: "ConfigMap", Name: "settings"},
		check: func(t *testing.T, obj any) {
			expect(t, "data", obj.(*corev1.ConfigMap).Data["color"], "blue")
		},
	},
	{
		name: "secret gets type Opaque and stringData merged into data",
		manifest: `
apiVersion: v1
kind: Secret
metadata: {name: creds}
data: {user: YWRtaW4=}
stringData: {password: hunter2}
`,
		wantKey: Key{Namespace: "default", Kind: "Secret", Name: "creds"},
		check: func(t *testing.T, obj any) {
			s := obj.(*corev1.Secret)
			expect(t, "type", s.Type, corev1.SecretTypeOpaque)
			expect(t, "user", string(s.Data["user"]), "admin")
			expect(t, "password", string(s.Data["password"]), "hunter2")
			expect(t, "stringData cleared", len(s.StringData), 0)
		},
	},
	{
		name: "persistent volume gets reclaim policy and loses a namespace",
		manifest: `
apiVersion: v1
kind: PersistentVolume
metadata: {name: disk, namespace: ignored}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /data}
`,
		wantKey: Key{Kind: "PersistentVolume", Name: "disk"},
		check: func(t *testing.T, obj any) {
			pv := obj.(*corev1.PersistentVolume)
			expect(t, "reclaim", pv.Spec.PersistentVolumeReclaimPolicy, corev1.PersistentVolumeReclaimRetain)
			expect(t, "volumeMode", *pv.Spec.VolumeMode, corev1.PersistentVolumeFilesystem)
		},
	},
	{
		name: "persistent volume claim",
		manifest: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: claim}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 500Mi}}
`,
		wantKey: Key{Namespace: "default", Kind: "PersistentVolumeClaim", Name: "claim"},
		check: func(t *testing.T, obj any) {
			pvc := obj.(*corev1.PersistentVolumeClaim)
			expect(t, "volumeMode", *pvc.Spec.VolumeMode, corev1.PersistentVolumeFilesystem)
		},
	},
	{
		name: "resource quota with a count",
		manifest: `
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota}
spec:
  hard: {pods: 5, requests.cpu: "2"}
`,
		wantKey: Key{Namespace: "default", Kind: "ResourceQuota", Name: "quota"},
		check: func(t *testing.T, obj any) {
			q := obj.(*corev1.ResourceQuota).Spec.Hard[corev1.ResourcePods]
			expect(t, "pods", q.Value(), int64(5))
		},
	},
	{
		name: "service account",
		manifest: `
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
`,
		wantKey: Key{Namespace: "default", Kind: "ServiceAccount", Name: "robot"},
		check:   func(t *testing.T, obj any) {},
	},
}

func TestDecodeDefaultsEveryKind(t *testing.T) {
	for _, tt := range defaultCases {
		t.Run(tt.name, func(t *testing.T) {
			o, _ := decodeOne(t, "m.yaml", tt.manifest)
			if o.Key != tt.wantKey {
				t.Errorf("Key = %v, want %v", o.Key, tt.wantKey)
			}
			if o.Source != (Source{File: "m.yaml", Doc: 0}) {
				t.Errorf("Source = %v", o.Source)
			}
			tt.check(t, o.Obj)
		})
	}
}

// expect compares one defaulted value.
func expect[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestDecodeDocumentIndexes(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     []Source
	}{
		{
			name:     "leading marker does not count",
			manifest: "---\n" + cmYAML("a") + "---\n" + cmYAML("b"),
			want:     []Source{{"f.yaml", 0}, {"f.yaml", 1}},
		},
		{
			name:     "comment header before the first marker does not count",
			manifest: "# header\n\n---\n" + cmYAML("a"),
			want:     []Source{{"f.yaml", 0}},
		},
		{
			name:     "empty and comment-only documents keep their index",
			manifest: cmYAML("a") + "---\n---\n# nothing here\n---\n" + cmYAML("b") + "--- # trailing comment\n",
			want:     []Source{{"f.yaml", 0}, {"f.yaml", 3}},
		},
		{
			name:     "null document is ignored",
			manifest: "~\n---\n" + cmYAML("a"),
			want:     []Source{{"f.yaml", 1}},
		},
		{
			name:     "byte order mark",
			manifest: "\xef\xbb\xbf" + cmYAML("a"),
			want:     []Source{{"f.yaml", 0}},
		},
		{
			name:     "windows line endings",
			manifest: strings.ReplaceAll(cmYAML("a")+"---\n"+cmYAML("b"), "\n", "\r\n"),
			want:     []Source{{"f.yaml", 0}, {"f.yaml", 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, _, err := Decode("f.yaml", []byte(tt.manifest))
			if err != nil {
				t.Fatal(err)
			}
			var got []Source
			for _, o := range objs {
				got = append(got, o.Source)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("sources = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("sources = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// cmYAML is a minimal valid ConfigMap document.
func cmYAML(name string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata: {k: v}\n"
}

// listAndJSONCases lists List documents and JSON files.
var listAndJSONCases = []struct {
	name     string
	file     string
	manifest string
	wantKeys []string
	wantErrs []string
}{
	{
		name: "yaml list",
		file: "list.yaml",
		manifest: cmYAML("first") + `---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {apiVersion: v1, kind: Service, metadata: {name: b}, spec: {ports: [{port: 80}]}}
`,
		wantKeys: []string{"default/ConfigMap/first", "default/ConfigMap/a", "default/Service/b"},
	},
	{
		name: "errors in list items carry items[i] and the list's document",
		file: "list.yaml",
		manifest: cmYAML("first") + `---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: ok}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: Bad_Name}}
- {apiVersion: v1, kind: Gadget, metadata: {name: x}}
`,
		wantErrs: []string{
			`list.yaml#1: items[1].metadata.name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
			`list.yaml#1: items[2].kind: unknown kind "Gadget" (reconciler accepts ConfigMap, CronJob, Deployment, Job, Namespace, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController, ResourceQuota, Secret, Service, ServiceAccount)`,
		},
	},
	{
		name:     "json object",
		file:     "one.json",
		manifest: `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}}`,
		wantKeys: []string{"default/ConfigMap/a"},
	},
	{
		name: "json list indented with tabs",
		file: "list.json",
		manifest: "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"List\",\n\t\"items\": [\n\t\t" +
			`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},` + "\n\t\t" +
			`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}` + "\n\t]\n}\n",
		wantKeys: []string{"default/ConfigMap/a", "default/ConfigMap/b"},
	},
	{
		name:     "json duplicate key",
		file:     "dup.json",
		manifest: `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "name": "b"}}`,
		wantErrs: []string{"dup.json#0: metadata.name: duplicate field"},
	},
	{
		name:     "json syntax error",
		file:     "bad.json",
		manifest: "{\n\"apiVersion\": \"v1\",\n\"kind\": }",
		wantErrs: []string{"bad.json#0: json: line 3: invalid character '}' looking for beginning of value"},
	},
}

func TestDecodeListsAndJSON(t *testing.T) {
	for _, tt := range listAndJSONCases {
		t.Run(tt.name, func(t *testing.T) {
			objs, _, err := Decode(tt.file, []byte(tt.manifest))
			if got := errorLines(err); strings.Join(got, "\n") != strings.Join(tt.wantErrs, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantErrs, "\n"))
			}
			var keys []string
			for _, o := range objs {
				keys = append(keys, o.Key.String())
			}
			if tt.wantErrs == nil && strings.Join(keys, ",") != strings.Join(tt.wantKeys, ",") {
				t.Errorf("keys = %v, want %v", keys, tt.wantKeys)
			}
		})
	}
}

// TestUnknownFieldDoesNotHideOtherErrors: a document with a typo still gets
// the rest of its validation in the same load.
func TestUnknownFieldDoesNotHideOtherErrors(t *testing.T) {
	doc := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: -1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers:
      - {name: web, image: nginx, imagee: typo, ports: [{containerPort: 70000}]}
`
	_, _, err := Decode("d.yaml", []byte(doc))
	var got []string
	for _, fe := range Errors(err) {
		got = append(got, fe.Error())
	}
	want := []string{
		"d.yaml#0: spec.replicas: must be greater than or equal to 0",
		"d.yaml#0: spec.template.spec.containers[0].imagee: unknown field",
		"d.yaml#0: spec.template.spec.containers[0].ports[0].containerPort: must be between 1 and 65535, inclusive",
		"d.yaml#0: spec.template.spec.hostNetwork: not supported by reconciler",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
