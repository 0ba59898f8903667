package podman

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/containers/podman/v4/pkg/bindings/volumes"
	"github.com/containers/podman/v4/pkg/domain/entities"

	"github.com/reconciler/reconciler/runtime"
)

var _ runtime.RevisionStore = (*Client)(nil)

// Revision labels, on the volume that records a revision.
const (
	labelRevisionOf       = runtime.LabelPrefix + "revision-of"
	labelRevisionNumber   = runtime.LabelPrefix + "revision-number"
	labelRevisionTemplate = runtime.LabelPrefix + "revision-template"
	labelRevisionComplete = runtime.LabelPrefix + "revision-complete"
	labelRevisionPinFor   = runtime.LabelPrefix + "revision-pin-for"
	labelRevisionPinWhy   = runtime.LabelPrefix + "revision-pin-reason"
	// labelRevisionWritten orders the versions of one revision's record.
	labelRevisionWritten = runtime.LabelPrefix + "revision-written"
)

// revisionPrefix names every version of one revision's record. Labels
// cannot change, so an update writes a new version (a new volume) first and
// then removes the older ones: a reader never finds the revision missing.
func revisionPrefix(r runtime.Revision) string {
	return "rev_" + r.Namespace + "_" + r.Deployment + "_" + r.Node + "_" + r.Hash + "_"
}

// storedRevision is one version of a revision record.
type storedRevision struct {
	volume  string
	written int64
	rev     runtime.Revision
}

// Revisions lists the node's revisions, the newest version of each.
func (c *Client) Revisions(ctx context.Context, node string) ([]runtime.Revision, error) {
	all, err := c.storedRevisions(ctx, node)
	if err != nil {
		return nil, err
	}
	newest := map[string]storedRevision{}
	var order []string
	for _, s := range all {
		k := revisionPrefix(s.rev)
		cur, ok := newest[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || s.written > cur.written {
			newest[k] = s
		}
	}
	out := make([]runtime.Revision, 0, len(order))
	for _, k := range order {
		out = append(out, newest[k].rev)
	}
	return out, nil
}

// storedRevisions lists every revision record version of a node.
func (c *Client) storedRevisions(ctx context.Context, node string) ([]storedRevision, error) {
	list, err := c.nodeVolumes(ctx, node, "revisions")
	if err != nil {
		return nil, err
	}
	var out []storedRevision
	for _, v := range list {
		if v.Labels[labelRevisionOf] == "" {
			continue
		}
		w, _ := strconv.ParseInt(v.Labels[labelRevisionWritten], 10, 64)
		out = append(out, storedRevision{volume: v.Name, written: w, rev: revisionFromLabels(v)})
	}
	return out, nil
}

// nodeVolumes lists the managed volumes of a node (of every node when node
// is empty): the records kept beside the pods. Podman 4.3 ORs several label
// filters on volumes (unlike on pods and containers), so the engine filters
// by one label and the rest is checked here. what names the records in
// errors.
func (c *Client) nodeVolumes(ctx context.Context, node, what string) ([]*entities.VolumeListReport, error) {
	cc, err := c.connected(ctx)
	if err != nil {
		return nil, err
	}
	filter := runtime.LabelManagedBy + "=" + runtime.ManagedByValue
	if node != "" {
		filter = runtime.LabelNode + "=" + node
	}
	list, err := listVolumes(cc, filter)
	if err != nil {
		return nil, wrap(err, "list %s", what)
	}
	out := list[:0]
	for _, v := range list {
		if v.Labels[runtime.LabelManagedBy] == runtime.ManagedByValue && (node == "" || v.Labels[runtime.LabelNode] == node) {
			out = append(out, v)
		}
	}
	return out, nil
}

func listVolumes(cc context.Context, filter string) ([]*entities.VolumeListReport, error) {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		var list []*entities.VolumeListReport
		list, err = volumes.List(cc, new(volumes.ListOptions).WithFilters(map[string][]string{"label": {filter}}))
		if err == nil || !isNotFound(err) && !strings.Contains(err.Error(), "no such volume") {
			return list, err
		}
		select {
		case <-cc.Done():
			return nil, cc.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	return nil, err
}

func revisionFromLabels(v *entities.VolumeListReport) runtime.Revision {
	l := v.Labels
	n, _ := strconv.ParseInt(l[labelRevisionNumber], 10, 64)
	tmpl, _ := base64.StdEncoding.DecodeString(l[labelRevisionTemplate])
	return runtime.Revision{
		Namespace: l[runtime.LabelNamespace], Deployment: l[labelRevisionOf], Node: l[runtime.LabelNode],
		Number: n, Hash: l[runtime.LabelTemplateHash], Template: tmpl, Source: l[runtime.LabelRevision],
		Created: v.CreatedAt, Complete: l[labelRevisionComplete] == "true",
		PinFor: l[labelRevisionPinFor], PinReason: l[labelRevisionPinWhy],
	}
}

// PutRevision writes a new version of a revision's record, then removes
// the older versions.
func (c *Client) PutRevision(ctx context.Context, r runtime.Revision) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	written := time.Now().UnixNano()
	name := revisionPrefix(r) + strconv.FormatInt(written, 36)
	labels := map[string]string{
		runtime.LabelManagedBy: runtime.ManagedByValue, runtime.LabelNode: r.Node,
		runtime.LabelNamespace: r.Namespace, labelRevisionOf: r.Deployment,
		labelRevisionNumber:       strconv.FormatInt(r.Number, 10),
		runtime.LabelTemplateHash: r.Hash, runtime.LabelRevision: r.Source,
		labelRevisionTemplate: base64.StdEncoding.EncodeToString(r.Template),
		labelRevisionComplete: strconv.FormatBool(r.Complete),
		labelRevisionPinFor:   r.PinFor, labelRevisionPinWhy: r.PinReason,
		labelRevisionWritten: strconv.FormatInt(written, 10),
	}
	if _, err := volumes.Create(cc, entities.VolumeCreateOptions{Name: name, Labels: labels}, nil); err != nil {
		return wrap(err, "write revision %q", name)
	}
	return c.removeVersions(ctx, r, written)
}

// DeleteRevision removes every version of a revision's record.
func (c *Client) DeleteRevision(ctx context.Context, r runtime.Revision) error {
	return c.removeVersions(ctx, r, 0)
}

// removeVersions removes the versions of r's record written before keep
// (keep 0: all of them). Only older versions go, so two writers racing
// (the daemon and `rollout undo`) always leave the newest record.
func (c *Client) removeVersions(ctx context.Context, r runtime.Revision, keep int64) error {
	all, err := c.storedRevisions(ctx, r.Node)
	if err != nil {
		return err
	}
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	prefix := revisionPrefix(r)
	for _, s := range all {
		if !strings.HasPrefix(s.volume, prefix) || (keep != 0 && s.written >= keep) {
			continue
		}
		err := volumes.Remove(cc, s.volume, new(volumes.RemoveOptions).WithForce(true))
		if err != nil && !isNotFound(err) {
			return wrap(err, "remove revision %q", s.volume)
		}
	}
	return nil
}
