package capacity

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/logfan/logfan/shared/awsregion"
)

// Input is what a plan starts from.
type Input struct {
	// DailyBytes is the uncompressed subscription JSON the senders send a day.
	DailyBytes float64 `json:"dailyBytes"`
	// PeakFactor is the peak rate over the day's mean rate; shards and
	// settings are sized for the peak.
	PeakFactor float64 `json:"peakFactor"`
	Workload
	// Senders counts sender accounts and regions (each pair sends heartbeats).
	Senders int `json:"senders"`
	// LogGroupsPerSender is the mean number of active log groups per sender.
	LogGroupsPerSender int `json:"logGroupsPerSender"`
	// Shares maps each enabled sink to the deliveries it receives per event
	// through the routes: 1 = every event, 0.3 = three events in ten, 2 =
	// every event to two of its targets. Its function reads every record
	// whatever its share.
	Shares map[string]float64 `json:"shares"`
	// Region is where the stack runs: it picks the Firehose and shard
	// quotas (prices are us-east-1's wherever it runs).
	Region string `json:"region"`
}

// EnabledSinks returns the sinks with a share, in Sinks order.
func (in Input) EnabledSinks() []string {
	var out []string
	for _, s := range Sinks {
		if _, ok := in.Shares[s]; ok {
			out = append(out, s)
		}
	}
	return out
}

// Validate reports every input a plan cannot start from, each with its
// cause and the accepted values, in one error.
func (in Input) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(in.DailyBytes) || in.DailyBytes <= 0 || in.DailyBytes > 1e15 {
		bad("daily volume %g bytes: give more than 0 and at most 1 PB a day (e.g. -daily 10GB, -daily 1TB)", in.DailyBytes)
	}
	if !finite(in.PeakFactor) || in.PeakFactor < 1 || in.PeakFactor > 100 {
		bad("peak factor %g: the peak rate over the day's mean, from 1 (flat) to 100", in.PeakFactor)
	}
	if !finite(in.EventBytes) || in.EventBytes <= EventOverheadBytes+1 || in.EventBytes > MaxRecordBytes {
		bad("event size %g bytes: a log event's subscription JSON carries about %.0f bytes besides its message; give more than %.0f and at most %d", in.EventBytes, EventOverheadBytes, EventOverheadBytes+1, MaxRecordBytes)
	}
	if !finite(in.Ratio) || in.Ratio < 1 || in.Ratio > 100 {
		bad("compression ratio %g: uncompressed JSON over its gzip payload, from 1 to 100 (sample data: %.2f)", in.Ratio, Sample.Ratio)
	}
	if !finite(in.EventsPerRecord) || in.EventsPerRecord < 1 || in.EventsPerRecord > 100000 {
		bad("events per record %g: from 1 to 100,000 (sample data: %.0f)", in.EventsPerRecord, Sample.EventsPerRecord)
	} else if len(errs) == 0 && in.RecordBytes() > MaxRecordBytes {
		bad("records of %.0f events of %.0f bytes at a ratio of %.2f are %.0f bytes, over the %d-byte Kinesis record CloudWatch Logs writes: lower the events per record",
			in.EventsPerRecord, in.EventBytes, in.Ratio, in.RecordBytes(), MaxRecordBytes)
	}
	if in.Senders < 1 || in.Senders > 1000000 {
		bad("senders %d: from 1 to 1,000,000 (sender accounts times their regions)", in.Senders)
	}
	if in.LogGroupsPerSender < 1 || in.LogGroupsPerSender > 1000000 {
		bad("log groups per sender %d: from 1 to 1,000,000", in.LogGroupsPerSender)
	}
	if len(in.Shares) == 0 {
		bad("no sink enabled: enable at least one of %v", Sinks)
	}
	for s, v := range in.Shares {
		if !slices.Contains(Sinks, s) {
			bad("sink %q: the sinks are %v", s, Sinks)
		}
		if !finite(v) || v < 0 || v > 10 {
			bad("share of %s %g: deliveries per event, from 0 (routes send it nothing) to 10 (every event to ten of its targets)", s, v)
		}
	}
	if err := awsregion.Check(in.Region); err != nil {
		bad("%v", err)
	}
	return errors.Join(errs...)
}
