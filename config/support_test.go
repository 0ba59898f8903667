package config

import (
	"strings"
	"testing"
)

// supportCases lists the field support policy: honoured, not run yet, not supported.
var supportCases = []struct {
	name           string
	manifest       string
	wantErrs       []string
	wantUnhonoured []string
}{
	{
		name:     "honoured fields only",
		manifest: podWith("    command: [nginx]\n    args: [-g, daemon off;]\n    env: [{name: A, value: b}]\n    ports: [{name: http, containerPort: 80, protocol: TCP}]\n    workingDir: /srv\n  restartPolicy: Always\n  dnsPolicy: ClusterFirst\n  terminationGracePeriodSeconds: 10\n  schedulerName: default-scheduler\n"),
	},
	{
		name: "probes of every handler are honoured",
		manifest: podWith(`    livenessProbe: {tcpSocket: {port: 80}, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 2}
    readinessProbe: {httpGet: {path: /ready, port: http, scheme: HTTP, httpHeaders: [{name: X, value: z}]}, successThreshold: 1}
    startupProbe: {exec: {command: [ok]}}
`),
	},
	{
		name:     "a probe's host and gRPC probes are not supported",
		manifest: podWith("    readinessProbe: {httpGet: {host: example.com, port: 80}}\n    livenessProbe: {grpc: {port: 9000}}\n"),
		wantErrs: []string{
			"m.yaml#0: spec.containers[0].livenessProbe.grpc: not supported by reconciler",
			"m.yaml#0: spec.containers[0].readinessProbe.httpGet.host: not supported by reconciler",
		},
	},
	{
		name:     "zero values and generated empty fields are not written fields",
		manifest: podWith("    resources: {}\n    stdin: false\n    ports: [{containerPort: 80, hostPort: 0}]\n    securityContext: {capabilities: {add: []}}\n  hostNetwork: false\n  nodeSelector: null\n  tolerations: []\n  priority: 0\n"),
	},
	{
		name: "each pending feature is listed, in field order",
		manifest: podWith(`    livenessProbe: {tcpSocket: {port: 80}}
    readinessProbe: {httpGet: {port: 80}}
    startupProbe: {exec: {command: [ok]}}
    volumeMounts: [{name: data, mountPath: /data}]
    env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    envFrom: [{configMapRef: {name: cm}}]
    resources: {limits: {cpu: 100m}}
    securityContext: {runAsUser: 1000}
    lifecycle: {preStop: {exec: {command: [stop]}}}
    ports: [{containerPort: 80, hostPort: 8080, hostIP: 127.0.0.1}]
    stdin: true
    stdinOnce: true
    tty: true
  initContainers: [{name: init, image: busybox}]
  volumes: [{name: data, emptyDir: {}}]
  securityContext: {fsGroup: 2000}
  serviceAccountName: robot
  serviceAccount: robot
  automountServiceAccountToken: true
  nodeSelector: {disk: ssd}
  nodeName: node-1
  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: disk, operator: In, values: [ssd]}]}]}}}
  imagePullSecrets: [{name: registry}]
`),
		wantUnhonoured: []string{
			"spec.containers[0].lifecycle: lifecycle hooks not run by this build yet",
			"spec.containers[0].ports[0].hostIP: host ports not run by this build yet",
			"spec.containers[0].ports[0].hostPort: host ports not run by this build yet",
			"spec.containers[0].stdin: stdin/tty not run by this build yet",
			"spec.containers[0].stdinOnce: stdin/tty not run by this build yet",
			"spec.containers[0].tty: stdin/tty not run by this build yet",
			"spec.imagePullSecrets: image pull secrets not run by this build yet",
		},
	},
	{
		name: "unsupported pod fields are errors",
		manifest: deploymentWith(`  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, generateName: web-}
    spec:
      hostNetwork: true
      tolerations: [{key: a, operator: Exists}]
      affinity:
        podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, podAffinityTerm: {topologyKey: x}}]}
        nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, preference: {matchExpressions: [{key: a, operator: Exists}]}}]}
      priorityClassName: high
      containers:
      - name: web
        image: nginx
        resizePolicy: [{resourceName: cpu, restartPolicy: NotRequired}]
`),
		wantErrs: []string{
			"m.yaml#0: spec.template.metadata.generateName: not supported by reconciler",
			"m.yaml#0: spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution: not supported by reconciler",
			"m.yaml#0: spec.template.spec.affinity.podAntiAffinity: not supported by reconciler",
			"m.yaml#0: spec.template.spec.containers[0].resizePolicy: not supported by reconciler",
			"m.yaml#0: spec.template.spec.hostNetwork: not supported by reconciler",
			"m.yaml#0: spec.template.spec.priorityClassName: not supported by reconciler",
		},
	},
	{
		name: "jobs report unsupported fields",
		manifest: `apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      hostPID: true
      containers: [{name: run, image: alpine, resources: {limits: {cpu: 1}}}]
`,
		wantErrs: []string{"m.yaml#0: spec.template.spec.hostPID: not supported by reconciler"},
	},
	{
		name: "cronjob templates are walked too",
		manifest: `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          shareProcessNamespace: true
          containers: [{name: run, image: alpine}]
`,
		wantErrs: []string{"m.yaml#0: spec.jobTemplate.spec.template.spec.shareProcessNamespace: not supported by reconciler"},
	},
	{
		name:     "non-workload kinds have no allowlist",
		manifest: "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: NodePort, externalTrafficPolicy: Local, ports: [{port: 80, nodePort: 30080}]}\n",
	},
}

func TestFieldSupport(t *testing.T) {
	for _, tt := range supportCases {
		t.Run(tt.name, func(t *testing.T) {
			objs, _, err := Decode("m.yaml", []byte(tt.manifest))
			if got := errorLines(err); strings.Join(got, "\n") != strings.Join(tt.wantErrs, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantErrs, "\n"))
			}
			if tt.wantErrs != nil {
				return
			}
			if got := objs[0].Unhonoured; strings.Join(got, "\n") != strings.Join(tt.wantUnhonoured, "\n") {
				t.Errorf("unhonoured:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantUnhonoured, "\n"))
			}
		})
	}
}

func TestUnhonouredReachesWorkload(t *testing.T) {
	manifest := deploymentWith(`  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        readinessProbe: {httpGet: {path: /healthz, port: 80}}
        lifecycle: {preStop: {exec: {command: [stop]}}}
      imagePullSecrets: [{name: registry}]
`)
	d, err := Load(memFS(map[string]string{"web.yaml": manifest}), "rev")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"spec.template.spec.containers[0].lifecycle: lifecycle hooks not run by this build yet",
		"spec.template.spec.imagePullSecrets: image pull secrets not run by this build yet",
	}
	if got := d.Workloads[0].Unhonoured; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Unhonoured = %q, want %q", got, want)
	}
}
