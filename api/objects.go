package api

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/reconciler/reconciler/config"
)

// ObjectView is one desired object as the API shows it: the object as
// applied, except that Secret values are replaced by their sizes.
type ObjectView struct {
	Namespace string          `json:"namespace,omitempty"`
	Kind      string          `json:"kind"`
	Name      string          `json:"name"`
	Source    string          `json:"source"`
	Object    json.RawMessage `json:"object"`
}

// objectViews renders objects for the API, redacting Secrets.
func objectViews(objs []config.Object) []ObjectView {
	out := make([]ObjectView, 0, len(objs))
	for _, o := range objs {
		raw, err := json.Marshal(o.Obj)
		if err != nil {
			continue
		}
		if o.Key.Kind == "Secret" {
			raw = redactSecret(raw)
		}
		out = append(out, ObjectView{Namespace: o.Key.Namespace, Kind: o.Key.Kind, Name: o.Key.Name,
			Source: o.Source.String(), Object: raw})
	}
	return out
}

// redactSecret replaces every value of a Secret's data and stringData by a
// note of its size, so no value ever leaves the daemon through the API.
func redactSecret(raw []byte) []byte {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return []byte(`{}`)
	}
	for _, field := range []string{"data", "stringData"} {
		data, _ := m[field].(map[string]any)
		for k, v := range data {
			s, _ := v.(string)
			n := len(s)
			if b, err := base64.StdEncoding.DecodeString(s); field == "data" && err == nil {
				n = len(b)
			}
			data[k] = "(redacted, " + strconv.Itoa(n) + " bytes)"
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return []byte(`{}`)
	}
	return out
}
