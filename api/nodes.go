package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/reconciler/reconciler/fleet"
)

// NodeView is one member of the fleet as GET /api/v1/nodes reports it.
type NodeView struct {
	Name    string            `json:"name"`
	Status  string            `json:"status"`
	Address string            `json:"address"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Pods is the number of pods the node runs; -1 when it has not said.
	Pods int `json:"pods"`
	// CPU and Memory are the node's allocatable resources as quantities.
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
	// Applied and Fetched are the commits the node has applied and has
	// fetched and validated.
	Applied  string    `json:"applied,omitempty"`
	Fetched  string    `json:"fetched,omitempty"`
	API      string    `json:"api,omitempty"`
	Cordoned bool      `json:"cordoned,omitempty"`
	LastSeen time.Time `json:"lastSeen"`
}

// NodeViews renders fleet members for the API, in the members' order.
func NodeViews(ms []fleet.Member) []NodeView {
	out := make([]NodeView, 0, len(ms))
	for _, m := range ms {
		pods, err := strconv.Atoi(m.Tags[fleet.TagPods])
		if err != nil {
			pods = -1
		}
		out = append(out, NodeView{Name: m.Name, Status: string(m.Status), Address: m.Address, Labels: m.Labels,
			Pods: pods, CPU: m.Tags[fleet.TagCPU], Memory: m.Tags[fleet.TagMemory],
			Applied: m.Tags[fleet.TagApplied], Fetched: m.Tags[fleet.TagFetched], API: m.Tags[fleet.TagAPI],
			Cordoned: m.Tags[fleet.TagCordoned] == "1", LastSeen: m.LastSeen})
	}
	return out
}

// nodeRoutes adds GET /api/v1/nodes and GET /api/v1/peer when the options
// give them.
func nodeRoutes(mux *http.ServeMux, opt Options) {
	if opt.Nodes != nil {
		mux.HandleFunc("GET /api/v1/nodes", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, NodeViews(opt.Nodes()))
		})
	}
	if opt.Cordon != nil {
		for path, on := range map[string]bool{"/api/v1/cordon": true, "/api/v1/uncordon": false} {
			mux.Handle("POST "+path, authorized(opt.Token, func(w http.ResponseWriter) {
				if err := opt.Cordon(on); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
		}
	}
	if opt.Peer != nil {
		mux.HandleFunc("GET /api/v1/peer", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, opt.Peer())
		})
	}
}
