package config

import (
	"errors"
	"strings"
	"testing"
)

// podWith is a valid Pod document whose first container gets extra, a
// YAML fragment indented for the container's fields.
func podWith(extra string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    image: nginx:1.25
` + extra
}

// deploymentWith is a valid Deployment document with spec fields replaced
// by specYAML (indented two spaces).
func deploymentWith(specYAML string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
` + specYAML
}

// serviceWith is a Service document with the given spec (indented two
// spaces).
func serviceWith(specYAML string) string {
	return `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
` + specYAML
}

// rejectCases lists one invalid manifest per rule, with the exact errors expected.
var rejectCases = []struct {
	name     string
	file     string
	manifest string
	want     []string
}{
	// Metadata.
	{
		name:     "name required",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n",
		want:     []string{"m.yaml#0: metadata.name: name or generateName is required"},
	},
	{
		name:     "pod name must be a DNS subdomain",
		manifest: strings.Replace(podWith(""), "name: web}", "name: Web_1}", 1),
		want:     []string{`m.yaml#0: metadata.name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
	},
	{
		name:     "service name must be a DNS label",
		manifest: strings.Replace(serviceWith("  ports: [{port: 80}]\n"), "name: web}", "name: web.shop}", 1),
		want:     []string{`m.yaml#0: metadata.name: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`},
	},
	{
		name:     "namespace name must be a DNS label",
		manifest: "apiVersion: v1\nkind: Namespace\nmetadata: {name: team.red}\n",
		want:     []string{`m.yaml#0: metadata.name: must not contain dots`},
	},
	{
		name:     "object namespace must be a DNS label",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: Red}\n",
		want:     []string{`m.yaml#0: metadata.namespace: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
	},
	{
		name:     "label key and value invalid, reserved prefix",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {\"bad key\": x, app: \"no spaces\", reconciler.dev/owner: me}\n",
		want: []string{
			`m.yaml#0: metadata.labels[app]: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
			`m.yaml#0: metadata.labels[bad key]: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
			`m.yaml#0: metadata.labels[reconciler.dev/owner]: label prefix "reconciler.dev/" is reserved for reconciler`,
		},
	},
	{
		name:     "reserved prefix in a pod template",
		manifest: deploymentWith("  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, reconciler.dev/hash: x}}\n    spec: {containers: [{name: web, image: nginx}]}\n"),
		want:     []string{`m.yaml#0: spec.template.metadata.labels[reconciler.dev/hash]: label prefix "reconciler.dev/" is reserved for reconciler`},
	},
	{
		name:     "annotation key invalid",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {\"-bad\": x}\n",
		want:     []string{`m.yaml#0: metadata.annotations[-bad]: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`},
	},
	// Deployments and ReplicationControllers.
	{
		name:     "deployment selector required",
		manifest: deploymentWith("  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n"),
		want:     []string{"m.yaml#0: spec.selector: required value"},
	},
	{
		name:     "deployment selector empty",
		manifest: deploymentWith("  selector: {}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n"),
		want:     []string{"m.yaml#0: spec.selector: empty selector is invalid for deployment"},
	},
	{
		name:     "deployment selector does not match template",
		manifest: deploymentWith("  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n"),
		want:     []string{"m.yaml#0: spec.template.metadata.labels: does not match selector"},
	},
	{
		name:     "deployment replicas negative, restartPolicy not Always, bad strategy",
		manifest: deploymentWith("  replicas: -1\n  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {restartPolicy: OnFailure, containers: [{name: web, image: nginx}]}\n"),
		want: []string{
			"m.yaml#0: spec.replicas: must be greater than or equal to 0",
			"m.yaml#0: spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when `maxSurge` is 0",
			`m.yaml#0: spec.template.spec.restartPolicy: unsupported value "OnFailure": supported values: "Always"`,
		},
	},
	{
		name: "replication controller selector does not match",
		manifest: `apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  selector: {app: api}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`,
		want: []string{"m.yaml#0: spec.template.metadata.labels: does not match selector"},
	},
	{
		name:     "replication controller template required",
		manifest: "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: web}\nspec: {selector: {app: web}}\n",
		want:     []string{"m.yaml#0: spec.template: required value"},
	},
	// Containers.
	{
		name:     "container name and image required",
		manifest: "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{command: [run]}]\n",
		want: []string{
			"m.yaml#0: spec.containers[0].image: required value",
			"m.yaml#0: spec.containers[0].name: required value",
		},
	},
	{
		name:     "container names are DNS labels, unique",
		manifest: podWith("  - {name: Side, image: busybox}\n  - {name: web, image: busybox}\n"),
		want: []string{
			`m.yaml#0: spec.containers[1].name: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
			`m.yaml#0: spec.containers[2].name: duplicate value "web"`,
		},
	},
	{
		name: "container port out of range (the documented example)",
		file: "deploy.yaml",
		manifest: cmYAML("first") + "---\n" + deploymentWith(
			"  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 70000}]}]}\n"),
		want: []string{"deploy.yaml#1: spec.template.spec.containers[0].ports[0].containerPort: must be between 1 and 65535, inclusive"},
	},
	{
		name:     "port names valid and unique in the pod, protocol known",
		manifest: podWith("    ports: [{name: http, containerPort: 80}, {name: Bad_Name, containerPort: 81, protocol: HTTP}]\n  - name: side\n    image: busybox\n    ports: [{name: http, containerPort: 8080}]\n"),
		want: []string{
			`m.yaml#0: spec.containers[0].ports[1].name: must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
			`m.yaml#0: spec.containers[0].ports[1].protocol: unsupported value "HTTP": supported values: "TCP", "UDP", "SCTP"`,
			`m.yaml#0: spec.containers[1].ports[0].name: duplicate value "http"`,
		},
	},
	{
		name:     "env var names",
		manifest: podWith("    env: [{name: 1BAD, value: x}, {value: z}]\n"),
		want: []string{
			`m.yaml#0: spec.containers[0].env[0].name: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')`,
			`m.yaml#0: spec.containers[0].env[1].name: required value`,
		},
	},
	{
		name:     "resources: bad quantity",
		manifest: podWith("    resources: {limits: {cpu: lots}}\n"),
		want:     []string{`m.yaml#0: spec.containers[0].resources.limits[cpu]: invalid quantity: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`},
	},
	{
		name:     "resources: request above limit, unknown resource",
		manifest: podWith("    resources: {requests: {cpu: '2', memory: 1Gi}, limits: {cpu: 500m, gpu: 1}}\n"),
		want: []string{
			"m.yaml#0: spec.containers[0].resources.limits[gpu]: must be a standard resource for containers (cpu, memory, ephemeral-storage, hugepages-<size>) or an extended resource (example.com/name)",
			"m.yaml#0: spec.containers[0].resources.requests[cpu]: must be less than or equal to cpu limit of 500m",
		},
	},
	{
		name:     "volume mount of an undeclared volume",
		manifest: podWith("    volumeMounts: [{name: data, mountPath: /data}]\n"),
		want:     []string{`m.yaml#0: spec.containers[0].volumeMounts[0].name: not found: "data"`},
	},
	{
		name:     "probe without a handler",
		manifest: podWith("    livenessProbe: {periodSeconds: 5}\n"),
		want:     []string{"m.yaml#0: spec.containers[0].livenessProbe: must specify a handler type"},
	},
	// Services.
	{
		name:     "service ports",
		manifest: serviceWith("  selector: {app: web}\n  ports:\n  - {name: http, port: 0}\n  - {name: http, port: 443, targetPort: Not_A_Name}\n  - {port: 8080, nodePort: 30080}\n"),
		want: []string{
			`m.yaml#0: spec.ports[0].port: must be between 1 and 65535, inclusive`,
			`m.yaml#0: spec.ports[1].name: duplicate value "http"`,
			`m.yaml#0: spec.ports[1].targetPort: must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
			`m.yaml#0: spec.ports[2].name: a name is required when a Service has more than one port`,
			"m.yaml#0: spec.ports[2].nodePort: may not be used when `type` is 'ClusterIP'",
		},
	},
	{
		name:     "service node port range and selector labels",
		manifest: serviceWith("  type: NodePort\n  selector: {app: \"a b\"}\n  ports: [{port: 80, nodePort: 80}]\n"),
		want: []string{
			`m.yaml#0: spec.ports[0].nodePort: must be between 30000 and 32767, inclusive`,
			`m.yaml#0: spec.selector[app]: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
		},
	},
	// Jobs.
	{
		name:     "job restartPolicy defaults to Always, which Jobs refuse",
		manifest: "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n    spec: {containers: [{name: run, image: alpine}]}\n",
		want:     []string{`m.yaml#0: spec.template.spec.restartPolicy: unsupported value "Always": supported values: "OnFailure", "Never"`},
	},
	{
		name:     "cronjob schedule required and checked",
		manifest: "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  schedule: \"\"\n  jobTemplate:\n    spec:\n      template:\n        spec: {restartPolicy: Always, containers: [{name: run, image: alpine}]}\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: weekly}\nspec:\n  schedule: \"0 3 * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec: {restartPolicy: Never, containers: [{name: run, image: alpine}]}\n",
		want: []string{
			`m.yaml#0: spec.jobTemplate.spec.template.spec.restartPolicy: unsupported value "Always": supported values: "OnFailure", "Never"`,
			`m.yaml#0: spec.schedule: a schedule is required`,
			`m.yaml#1: spec.schedule: must have 5 fields (minute hour day-of-month month day-of-week) or be a macro such as @hourly`,
		},
	},
	// Data.
	{
		name:     "configmap keys",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {\"bad/key\": v}\n",
		want:     []string{`m.yaml#0: data[bad/key]: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`},
	},
	{
		name:     "tls secret needs its keys",
		manifest: "apiVersion: v1\nkind: Secret\nmetadata: {name: tls}\ntype: kubernetes.io/tls\nstringData: {tls.crt: cert}\n",
		want:     []string{`m.yaml#0: data[tls.key]: required for a Secret of type "kubernetes.io/tls"`},
	},
	// Storage.
	{
		name:     "persistent volume capacity, access modes and source",
		manifest: "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: disk}\nspec:\n  accessModes: [ReadWriteSometimes]\n",
		want: []string{
			`m.yaml#0: spec: must specify a volume type`,
			`m.yaml#0: spec.accessModes[0]: unsupported value "ReadWriteSometimes": supported values: "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"`,
			`m.yaml#0: spec.capacity[storage]: required value`,
		},
	},
	{
		name:     "persistent volume claim needs access modes and storage",
		manifest: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: claim}\nspec: {resources: {requests: {cpu: 1}}}\n",
		want: []string{
			`m.yaml#0: spec.accessModes: at least 1 access mode is required`,
			`m.yaml#0: spec.resources.requests[storage]: required value`,
		},
	},
	{
		name:     "resource quota quantities",
		manifest: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {pods: many, limits.cpu: \"-1\"}}\n",
		want:     []string{`m.yaml#0: spec.hard[pods]: invalid quantity: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`},
	},
	{
		name:     "resource quota negative",
		manifest: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {limits.cpu: \"-1\"}}\n",
		want:     []string{`m.yaml#0: spec.hard[limits.cpu]: must be greater than or equal to 0`},
	},
	// Strict decoding.
	{
		name:     "unknown field",
		manifest: podWith("    imagee: nginx\n"),
		want:     []string{"m.yaml#0: spec.containers[0].imagee: unknown field"},
	},
	{
		name:     "field names are case-sensitive",
		manifest: podWith("    Image: nginx\n"),
		want:     []string{"m.yaml#0: spec.containers[0].Image: unknown field"},
	},
	{
		name:     "duplicate field",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
		want:     []string{"m.yaml#0: metadata.name: duplicate field"},
	},
	{
		name:     "wrong types, all reported",
		manifest: deploymentWith("  replicas: three\n  paused: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80.5}]}]}\n"),
		want: []string{
			"m.yaml#0: spec.paused: must be a boolean",
			"m.yaml#0: spec.replicas: must be an integer",
			"m.yaml#0: spec.template.spec.containers[0].ports[0].containerPort: must be an integer",
		},
	},
	{
		name:     "missing kind and apiVersion",
		manifest: "metadata: {name: a}\n",
		want: []string{
			"m.yaml#0: apiVersion: required value",
			"m.yaml#0: kind: required value",
		},
	},
	{
		name:     "unknown apiVersion for a known kind",
		manifest: "apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: a}\n",
		want:     []string{`m.yaml#0: apiVersion: unknown apiVersion "apps/v2" for kind Deployment (accepted: apps/v1, apps/v1beta1, apps/v1beta2, extensions/v1beta1)`},
	},
	{
		name:     "document not a mapping",
		manifest: "- a\n- b\n",
		want:     []string{"m.yaml#0: document must be a mapping with apiVersion and kind"},
	},
	{
		name:     "yaml syntax error reports the file line",
		manifest: cmYAML("a") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n   labels: x\n",
		want:     []string{"m.yaml#1: yaml: line 11: mapping values are not allowed in this context"},
	},
	{
		name: "every broken document of a file is reported",
		manifest: podWith("    imagee: x\n") + "---\n" + cmYAML("ok") + "---\n" +
			"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 99999}]}\n---\nkind: Pod\n",
		want: []string{
			"m.yaml#0: spec.containers[0].imagee: unknown field",
			"m.yaml#2: spec.ports[0].port: must be between 1 and 65535, inclusive",
			"m.yaml#3: apiVersion: required value",
		},
	},
}

func TestDecodeRejects(t *testing.T) {
	for _, tt := range rejectCases {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = "m.yaml"
			}
			_, _, err := Decode(file, []byte(tt.manifest))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			got := errorLines(err)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestSecretValuesNeverInErrors(t *testing.T) {
	const secret = "s3cr3t-Value-Never-Shown"
	tests := []struct {
		name     string
		manifest string
		want     []string
	}{
		{
			name:     "data is not base64",
			manifest: "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\ndata: {password: \"" + secret + "!\"}\n",
			want:     []string{"m.yaml#0: data[password]: must be a base64-encoded string (decoding failed)"},
		},
		{
			name:     "data value of the wrong type",
			manifest: "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {pin: [" + "\"" + secret + "\"]}\n",
			want:     []string{"m.yaml#0: stringData[pin]: must be a string"},
		},
		{
			name:     "dockerconfigjson is not JSON",
			manifest: "apiVersion: v1\nkind: Secret\nmetadata: {name: pull}\ntype: kubernetes.io/dockerconfigjson\nstringData: {.dockerconfigjson: \"" + secret + "\"}\n",
			want:     []string{"m.yaml#0: data[.dockerconfigjson]: must be valid JSON"},
		},
		{
			name:     "configmap value in a bad key",
			manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {\"a b\": \"" + secret + "\"}\n",
			want:     []string{`m.yaml#0: data[a b]: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode("m.yaml", []byte(tt.manifest))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the secret value: %v", err)
			}
			if got := errorLines(err); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
