package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/reconciler/reconciler/api"
	"github.com/reconciler/reconciler/executor"
)

// kindNames maps the names `get` accepts to object kinds.
var kindNames = map[string]string{
	"service": "Service", "services": "Service", "svc": "Service",
	"configmap": "ConfigMap", "configmaps": "ConfigMap", "cm": "ConfigMap",
	"secret": "Secret", "secrets": "Secret",
}

// objectFields is the part of a desired object the tables read.
type objectFields struct {
	Metadata struct {
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
	Spec struct {
		Type  string `json:"type"`
		Ports []struct {
			Port     int32  `json:"port"`
			NodePort int32  `json:"nodePort"`
			Protocol string `json:"protocol"`
		} `json:"ports"`
	} `json:"spec"`
	BinaryData map[string]any `json:"binaryData"`
	// served is the Service as the daemon's proxy serves it (not JSON).
	served executor.EndpointsStatus
}

// printObjects prints the desired objects of one kind, in the namespace
// and matching the selector, as a table, JSON, YAML or names.
func printObjects(w io.Writer, kind string, objs []api.ObjectView, o getOptions) error {
	type row struct {
		view api.ObjectView
		f    objectFields
	}
	var rows []row
	for _, v := range objs {
		var f objectFields
		if v.Kind != kind || json.Unmarshal(v.Object, &f) != nil || !o.match(v.Namespace, f.Metadata.Labels) {
			continue
		}
		f.served = o.endpoints[v.Namespace+"/"+v.Name]
		rows = append(rows, row{v, f})
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].view.Namespace+"/"+rows[i].view.Name < rows[j].view.Namespace+"/"+rows[j].view.Name
	})
	switch o.output {
	case "json", "yaml":
		list := make([]json.RawMessage, 0, len(rows))
		for _, r := range rows {
			list = append(list, r.view.Object)
		}
		return printStructured(w, o.output, list)
	case "name":
		for _, r := range rows {
			fmt.Fprintf(w, "%s/%s\n", strings.ToLower(kind), r.view.Name)
		}
		return nil
	}
	head, cells := objectColumns(kind)
	if o.all {
		head = "NAMESPACE\t" + head
	}
	if o.showLabels {
		head += "\tLABELS"
	}
	fmt.Fprintln(w, head)
	for _, r := range rows {
		line := r.view.Name + "\t" + cells(r.f)
		if o.all {
			line = r.view.Namespace + "\t" + line
		}
		if o.showLabels {
			line += "\t" + labelsString(r.f.Metadata.Labels)
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// objectColumns gives kubectl's columns for a kind (without NAME), and the
// cells of one object. A Service's cluster IP and node ports are those the
// daemon allocated. Jobs and CronJobs have their own tables (jobs.go).
func objectColumns(kind string) (string, func(objectFields) string) {
	switch kind {
	case "Service":
		return "NAME\tTYPE\tCLUSTER-IP\tPORT(S)", func(f objectFields) string {
			var ports []string
			for i, p := range f.Spec.Ports {
				s := fmt.Sprint(p.Port)
				if i < len(f.served.Ports) && f.served.Ports[i].NodePort != 0 {
					s += fmt.Sprintf(":%d", f.served.Ports[i].NodePort)
				}
				ports = append(ports, s+"/"+p.Protocol)
			}
			ip := f.served.ClusterIP
			if ip == "" {
				ip = "<none>"
			}
			return f.Spec.Type + "\t" + ip + "\t" + strings.Join(ports, ",")
		}
	case "ConfigMap":
		return "NAME\tDATA", func(f objectFields) string { return fmt.Sprint(len(f.Data) + len(f.BinaryData)) }
	case "Secret":
		return "NAME\tTYPE\tDATA", func(f objectFields) string { return f.Type + "\t" + fmt.Sprint(len(f.Data)) }
	}
	return "NAME", func(objectFields) string { return "" } // Jobs and CronJobs: see jobs.go
}

// printStructured prints v as indented JSON or as YAML.
func printStructured(w io.Writer, format string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if format == "yaml" {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return err
		}
	} else {
		b = append(b, '\n')
	}
	_, err = w.Write(b)
	return err
}

// labelsString renders labels as kubectl does: k=v,k=v sorted, or <none>.
func labelsString(l map[string]string) string {
	if len(l) == 0 {
		return "<none>"
	}
	return labels.Set(l).String()
}
