package podman

import (
	"context"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/containers/podman/v4/pkg/bindings/volumes"
	"github.com/containers/podman/v4/pkg/domain/entities"

	"github.com/reconciler/reconciler/runtime"
)

var _ runtime.JobRecordStore = (*Client)(nil)

// Job and CronJob record labels, on the empty volume that holds a record.
// Like revisions, a record is never changed in place (labels cannot
// change): an update writes a new version, then removes the older ones, so
// a reader never finds a record missing, and a SIGKILL between the two
// steps leaves two versions of which the newest wins.
const (
	labelRecord          = runtime.LabelPrefix + "record" // "job" or "cronjob"
	labelRecordWritten   = runtime.LabelPrefix + "record-written"
	labelJobName         = runtime.LabelPrefix + "job-name"
	labelJobCronJob      = runtime.LabelPrefix + "cronjob"
	labelJobManual       = runtime.LabelPrefix + "job-manual"
	labelJobScheduled    = runtime.LabelPrefix + "job-scheduled"
	labelJobSpec         = runtime.LabelPrefix + "job-spec"
	labelJobCreated      = runtime.LabelPrefix + "job-created"
	labelJobStart        = runtime.LabelPrefix + "job-start"
	labelJobCompletion   = runtime.LabelPrefix + "job-completion"
	labelJobSucceeded    = runtime.LabelPrefix + "job-succeeded"
	labelJobFailed       = runtime.LabelPrefix + "job-failed"
	labelJobCondition    = runtime.LabelPrefix + "job-condition"
	labelJobReason       = runtime.LabelPrefix + "job-reason"
	labelJobMessage      = runtime.LabelPrefix + "job-message"
	labelJobDeleting     = runtime.LabelPrefix + "job-deleting"
	labelCronCreated     = runtime.LabelPrefix + "cronjob-created"
	labelCronLastSchedul = runtime.LabelPrefix + "cronjob-last-schedule"

	recordJob     = "job"
	recordCronJob = "cronjob"
)

// storedRecord is one version of a Job or CronJob record.
type storedRecord struct {
	volume  string
	written int64
	kind    string
	id      string // namespace/name/node
	job     runtime.JobRecord
	cron    runtime.CronJobRecord
}

// JobRecords lists the node's Job and CronJob records, the newest version
// of each.
func (c *Client) JobRecords(ctx context.Context, node string) ([]runtime.JobRecord, []runtime.CronJobRecord, error) {
	all, err := c.storedRecords(ctx, node)
	if err != nil {
		return nil, nil, err
	}
	newest := map[string]storedRecord{}
	var order []string
	for _, s := range all {
		k := s.kind + "/" + s.id
		cur, ok := newest[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || s.written > cur.written {
			newest[k] = s
		}
	}
	var jobs []runtime.JobRecord
	var crons []runtime.CronJobRecord
	for _, k := range order {
		s := newest[k]
		if s.kind == recordJob {
			jobs = append(jobs, s.job)
		} else {
			crons = append(crons, s.cron)
		}
	}
	return jobs, crons, nil
}

// storedRecords lists every Job and CronJob record version of a node (of
// every node when node is empty).
func (c *Client) storedRecords(ctx context.Context, node string) ([]storedRecord, error) {
	list, err := c.nodeVolumes(ctx, node, "job records")
	if err != nil {
		return nil, err
	}
	var out []storedRecord
	for _, v := range list {
		l := v.Labels
		kind := l[labelRecord]
		if kind != recordJob && kind != recordCronJob {
			continue
		}
		w, _ := strconv.ParseInt(l[labelRecordWritten], 10, 64)
		s := storedRecord{volume: v.Name, written: w, kind: kind}
		if kind == recordJob {
			s.job = jobFromLabels(l)
			s.id = recordID(s.job.Namespace, s.job.Name, s.job.Node)
		} else {
			s.cron = cronFromLabels(l)
			s.id = recordID(s.cron.Namespace, s.cron.Name, s.cron.Node)
		}
		out = append(out, s)
	}
	return out, nil
}

func recordID(ns, name, node string) string { return ns + "/" + name + "/" + node }

func jobFromLabels(l map[string]string) runtime.JobRecord {
	spec, _ := base64.StdEncoding.DecodeString(l[labelJobSpec])
	return runtime.JobRecord{
		Namespace: l[runtime.LabelNamespace], Name: l[labelJobName], Node: l[runtime.LabelNode],
		TemplateHash: l[runtime.LabelTemplateHash], CronJob: l[labelJobCronJob], Manual: l[labelJobManual] == "true",
		ScheduledTime: parseTime(l[labelJobScheduled]), Spec: spec,
		Created: parseTime(l[labelJobCreated]), StartTime: parseTime(l[labelJobStart]),
		CompletionTime: parseTime(l[labelJobCompletion]),
		Succeeded:      parseInt32(l[labelJobSucceeded]), Failed: parseInt32(l[labelJobFailed]),
		Condition: l[labelJobCondition], Reason: l[labelJobReason], Message: l[labelJobMessage],
		Deleting: l[labelJobDeleting] == "true",
	}
}

func cronFromLabels(l map[string]string) runtime.CronJobRecord {
	return runtime.CronJobRecord{
		Namespace: l[runtime.LabelNamespace], Name: l[labelJobCronJob], Node: l[runtime.LabelNode],
		Created: parseTime(l[labelCronCreated]), LastScheduleTime: parseTime(l[labelCronLastSchedul]),
	}
}

// PutJobRecord writes a new version of a Job's record, then removes the
// older versions.
func (c *Client) PutJobRecord(ctx context.Context, r runtime.JobRecord) error {
	labels := map[string]string{
		labelRecord: recordJob, runtime.LabelNamespace: r.Namespace, labelJobName: r.Name,
		runtime.LabelTemplateHash: r.TemplateHash, labelJobCronJob: r.CronJob,
		labelJobManual: strconv.FormatBool(r.Manual), labelJobScheduled: formatTime(r.ScheduledTime),
		labelJobSpec:    base64.StdEncoding.EncodeToString(r.Spec),
		labelJobCreated: formatTime(r.Created), labelJobStart: formatTime(r.StartTime),
		labelJobCompletion: formatTime(r.CompletionTime),
		labelJobSucceeded:  strconv.Itoa(int(r.Succeeded)), labelJobFailed: strconv.Itoa(int(r.Failed)),
		labelJobCondition: r.Condition, labelJobReason: r.Reason, labelJobMessage: r.Message,
		labelJobDeleting: strconv.FormatBool(r.Deleting),
	}
	return c.putRecord(ctx, recordJob, r.Namespace, r.Name, r.Node, labels)
}

// DeleteJobRecord removes every version of a Job's record.
func (c *Client) DeleteJobRecord(ctx context.Context, r runtime.JobRecord) error {
	return c.removeRecordVersions(ctx, recordJob, recordID(r.Namespace, r.Name, r.Node), r.Node, 0)
}

// PutCronJobRecord writes a new version of a CronJob's record, then
// removes the older versions.
func (c *Client) PutCronJobRecord(ctx context.Context, r runtime.CronJobRecord) error {
	labels := map[string]string{
		labelRecord: recordCronJob, runtime.LabelNamespace: r.Namespace, labelJobCronJob: r.Name,
		labelCronCreated: formatTime(r.Created), labelCronLastSchedul: formatTime(r.LastScheduleTime),
	}
	return c.putRecord(ctx, recordCronJob, r.Namespace, r.Name, r.Node, labels)
}

// DeleteCronJobRecord removes every version of a CronJob's record.
func (c *Client) DeleteCronJobRecord(ctx context.Context, r runtime.CronJobRecord) error {
	return c.removeRecordVersions(ctx, recordCronJob, recordID(r.Namespace, r.Name, r.Node), r.Node, 0)
}

// putRecord creates a new version of a record's volume with labels, then
// removes the versions written before it.
func (c *Client) putRecord(ctx context.Context, kind, ns, name, node string, labels map[string]string) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	written := time.Now().UnixNano()
	labels[runtime.LabelManagedBy] = runtime.ManagedByValue
	labels[runtime.LabelNode] = node
	labels[labelRecordWritten] = strconv.FormatInt(written, 10)
	vol := kind + "_" + ns + "_" + name + "_" + node + "_" + strconv.FormatInt(written, 36)
	if _, err := volumes.Create(cc, entities.VolumeCreateOptions{Name: vol, Labels: labels}, nil); err != nil {
		return wrap(err, "write %s record %q", kind, vol)
	}
	return c.removeRecordVersions(ctx, kind, recordID(ns, name, node), node, written)
}

// removeRecordVersions removes the versions of one record written before
// keep (keep 0: all of them); only older versions go, so two writers
// racing always leave the newest.
func (c *Client) removeRecordVersions(ctx context.Context, kind, id, node string, keep int64) error {
	all, err := c.storedRecords(ctx, node)
	if err != nil {
		return err
	}
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	for _, s := range all {
		if s.kind != kind || s.id != id || (keep != 0 && s.written >= keep) {
			continue
		}
		err := volumes.Remove(cc, s.volume, new(volumes.RemoveOptions).WithForce(true))
		if err != nil && !isNotFound(err) {
			return wrap(err, "remove %s record %q", kind, s.volume)
		}
	}
	return nil
}

// formatTime renders a record time (UTC, nanoseconds), "" for zero.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseTime reads a record time; "" or garbage is the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func parseInt32(s string) int32 {
	n, _ := strconv.ParseInt(s, 10, 32)
	return int32(n)
}
