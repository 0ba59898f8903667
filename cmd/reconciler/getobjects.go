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
	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
)

// kindNames maps the names `get` accepts to object kinds.
var kindNames = map[string]string{
	"service": "Service", "services": "Service", "svc": "Service",
	"configmap": "ConfigMap", "configmaps": "ConfigMap", "cm": "ConfigMap",
	"secret": "Secret", "secrets": "Secret",
	"persistentvolumeclaim": "PersistentVolumeClaim", "persistentvolumeclaims": "PersistentVolumeClaim", "pvc": "PersistentVolumeClaim",
	"persistentvolume": "PersistentVolume", "persistentvolumes": "PersistentVolume", "pv": "PersistentVolume",
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
		// PersistentVolume and PersistentVolumeClaim fields.
		AccessModes      []string          `json:"accessModes"`
		StorageClassName *string           `json:"storageClassName"`
		Capacity         map[string]string `json:"capacity"`
		ReclaimPolicy    string            `json:"persistentVolumeReclaimPolicy"`
		Resources        struct {
			Requests map[string]string `json:"requests"`
		} `json:"resources"`
	} `json:"spec"`
	BinaryData map[string]any `json:"binaryData"`
	// served is the Service as the daemon's proxy serves it (not JSON).
	served executor.EndpointsStatus
	// name and namespace of the object, and the daemon's claim bindings
	// (not JSON).
	name, namespace string
	claims          map[string]config.ClaimBinding
	volumeCapacity  map[string]string
}

// printObjects prints the desired objects of one kind, in the namespace
// and matching the selector, as a table, JSON, YAML or names.
func printObjects(w io.Writer, kind string, objs []api.ObjectView, o getOptions) error {
	type row struct {
		view api.ObjectView
		f    objectFields
	}
	var rows []row
	capacities := map[string]string{} // PersistentVolume → its capacity, for claims
	for _, v := range objs {
		var f objectFields
		if v.Kind == "PersistentVolume" && json.Unmarshal(v.Object, &f) == nil {
			capacities[v.Name] = f.Spec.Capacity["storage"]
		}
	}
	for _, v := range objs {
		var f objectFields
		if v.Kind != kind || json.Unmarshal(v.Object, &f) != nil {
			continue
		}
		if ns := v.Namespace; ns == "" && !o.selector.Matches(labels.Set(f.Metadata.Labels)) || ns != "" && !o.match(ns, f.Metadata.Labels) {
			continue // cluster-scoped objects (PersistentVolumes) are in no namespace
		}
		f.volumeCapacity = capacities
		f.served = o.endpoints[v.Namespace+"/"+v.Name]
		f.name, f.namespace, f.claims = v.Name, v.Namespace, o.claims
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
	case "PersistentVolumeClaim":
		return "NAME\tSTATUS\tVOLUME\tCAPACITY\tACCESS MODES\tSTORAGECLASS", func(f objectFields) string {
			b, ok := f.claims[f.namespace+"/"+f.name]
			if !ok || !b.Bound() { // as kubectl: a Pending claim has no volume, capacity or modes yet
				return "Pending\t\t\t\t" + orNone(deref(f.Spec.StorageClassName))
			}
			return "Bound\t" + b.Volume + "\t" + f.volumeCapacity[b.Volume] + "\t" +
				accessModes(f.Spec.AccessModes) + "\t" + orNone(deref(f.Spec.StorageClassName))
		}
	case "PersistentVolume":
		return "NAME\tCAPACITY\tACCESS MODES\tRECLAIM POLICY\tSTATUS\tCLAIM\tSTORAGECLASS", func(f objectFields) string {
			status, claim := "Available", ""
			for k, b := range f.claims {
				if b.Volume == f.name {
					status, claim = "Bound", k
				}
			}
			policy := f.Spec.ReclaimPolicy
			if policy == "" {
				policy = "Retain"
			}
			return f.Spec.Capacity["storage"] + "\t" + accessModes(f.Spec.AccessModes) + "\t" + policy + "\t" +
				status + "\t" + claim + "\t" + orNone(deref(f.Spec.StorageClassName))
		}
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

// accessModes abbreviates access modes as kubectl does (RWO, ROX, RWX,
// RWOP).
func accessModes(modes []string) string {
	short := map[string]string{"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
	out := make([]string, 0, len(modes))
	for _, m := range modes {
		out = append(out, short[m])
	}
	return strings.Join(out, ",")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
