// Package emf writes CloudWatch Embedded Metric Format documents: JSON log
// lines that CloudWatch Logs turns into metrics without any API call.
//
// See https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package emf

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// Namespace is the CloudWatch namespace logfan's metrics go to.
const Namespace = "logfan"

// Metric names logfan emits (the stack's alarms and dashboard use them too).
const (
	MetricRecords         = "Records"
	MetricEvents          = "Events"
	MetricBytes           = "Bytes"
	MetricDelivered       = "Delivered"
	MetricRetried         = "Retried"
	MetricQuarantined     = "Quarantined"
	MetricRejected        = "Rejected"
	MetricPoisonRecords   = "PoisonRecords"
	MetricControlMessages = "ControlMessages"
	MetricFailedRecords   = "FailedRecords"
	// MetricDeliveries counts, per route, deliveries owed to the sink's targets (events × targets).
	MetricDeliveries = "Deliveries"
	// MetricDropped counts events that matched no route or a route without targets.
	MetricDropped = "Dropped"
	// MetricOtherSinks counts events whose route sends the sink nothing.
	MetricOtherSinks = "OtherSinks"

	// MetricHeartbeats counts heartbeat events (sender health): recognised by
	// their log group, counted, delivered to no sink.
	MetricHeartbeats = "Heartbeats"
	// MetricHealthWrites counts the sender-health table writes of an invocation.
	MetricHealthWrites = "HealthWrites"
	// MetricHealthErrors is 1 for an invocation whose sender-health writes
	// failed (its events were delivered all the same).
	MetricHealthErrors = "HealthErrors"

	// The watchdog's metrics (no dimensions): expected senders with no
	// heartbeat for SILENT_AFTER_MINUTES, for two heartbeat intervals, never
	// seen; senders not expected; log groups that sent every day of the
	// last week and nothing today.
	MetricSilentSenders     = "SilentSenders"
	MetricLateSenders       = "LateSenders"
	MetricNeverSeenSenders  = "NeverSeenSenders"
	MetricUnexpectedSenders = "UnexpectedSenders"
	MetricSilentLogGroups   = "SilentLogGroups"
)

// Dimension names.
const (
	DimSink  = "sink"
	DimOwner = "owner"
	DimRoute = "route"
)

// Metric is one named value.
type Metric struct {
	Name  string
	Value float64
	Unit  string // Count, Bytes, ...
}

// Write emits one EMF document with the given dimension values (all used as
// one dimension set) and metrics.
func Write(w io.Writer, now time.Time, dims map[string]string, metrics []Metric) error {
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	type def struct {
		Name string `json:"Name"`
		Unit string `json:"Unit,omitempty"`
	}
	defs := make([]def, len(metrics))
	doc := make(map[string]any, len(dims)+len(metrics)+1)
	for k, v := range dims {
		doc[k] = v
	}
	for i, m := range metrics {
		defs[i] = def{Name: m.Name, Unit: m.Unit}
		doc[m.Name] = m.Value
	}
	doc["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode EMF document: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
