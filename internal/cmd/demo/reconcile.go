package demo

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/logfan/logfan/internal/ops/healthreport"
	"github.com/logfan/logfan/shared/health"
)

// SinkReport reconciles one sink: every event sent is landed, quarantined
// with a reason, parked in the on-failure destination, or lost.
type SinkReport struct {
	Sink string
	// Sent counts the events the senders wrote.
	Sent int
	// Landed counts distinct sent events found in the sink.
	Landed int
	// Duplicates counts extra copies of landed events.
	Duplicates int
	// Missing counts sent events not found in the sink.
	Missing int
	// Quarantined counts events the sink quarantined (from the handlers' summaries).
	Quarantined int
	// PoisonRecords counts undecodable Kinesis records the handler quarantined.
	PoisonRecords int
	// OnFailure counts missing events whose records went to the on-failure destination.
	OnFailure int
	// Lost counts missing events that are neither quarantined nor in the on-failure destination.
	Lost int
	// Invocations and Retries come from the sink's poller: Retries counts
	// batches the event source mapping invoked again.
	Invocations, Retries int
	// RequestRetries counts AWS calls the sink's handlers repeated after a
	// retryable failure, within an invocation (consumer.Summary.Retried).
	RequestRetries int
	// Faults counts the handlers' AWS requests -faults failed (sink,
	// quarantine, ledger and sender-health calls alike), of which Throttles,
	// ServerErrors and Timeouts by kind; Absorbed those of them repeated
	// later and answered with success, by the sink's, the SDK's or Lambda's retries.
	Faults, Absorbed                  int
	Throttles, ServerErrors, Timeouts int
	// Heartbeats counts heartbeat events that landed in the sink: must be 0.
	Heartbeats int
	// HealthErrors counts the sink's failed sender-health flushes
	// (invocations and shutdown attempts). A write that failed on a
	// timeout may have landed all the same and is written again, so with
	// failures the health table's counts may exceed what the handlers
	// settled; they never fall short of it.
	HealthErrors int
}

// ExactlyOnce reports whether every sent event landed once.
func (r SinkReport) ExactlyOnce() bool { return r.Landed == r.Sent && r.Duplicates == 0 }

// quarantineTally is what a sink quarantined: the events read back from the
// quarantine when the target can (keys), else only the handlers' count.
type quarantineTally struct {
	keys  map[int]bool
	count int
}

// reconcile compares what landed (messages, duplicates included) with the
// sent events 0..sent-1 of run; q is what the sink quarantined and parked
// holds the events of records handed to the on-failure destination.
func reconcile(sink, run string, sent int, landed []string, q quarantineTally, poison int, parked map[int]bool) SinkReport {
	r := SinkReport{Sink: sink, Sent: sent, Quarantined: q.count, PoisonRecords: poison, Heartbeats: countHeartbeats(landed)}
	if q.keys != nil {
		r.Quarantined = len(q.keys)
	}
	seen := make([]int, sent)
	for _, msg := range landed {
		if got, n, ok := parseKey(msg); ok && got == run && n >= 0 && n < sent {
			seen[n]++
		}
	}
	unexplained := 0
	for n, c := range seen {
		switch {
		case c == 0:
			r.Missing++
			switch {
			case parked[n]:
				r.OnFailure++
			case q.keys != nil && q.keys[n]:
			default:
				unexplained++
			}
		default:
			r.Landed++
			r.Duplicates += c - 1
		}
	}
	r.Lost = unexplained
	if q.keys == nil {
		// Counted, not named: quarantined events explain that many missing
		// ones. Poison records hide an unknown number of events, so they
		// explain nothing and count as lost here.
		r.Lost = max(0, unexplained-q.count)
	}
	return r
}

// Report is the outcome of one demo run.
type Report struct {
	// Run tags this run's messages.
	Run string
	// Endpoint is the emulator's URL.
	Endpoint string
	// Shards counts the stream's shards.
	Shards int
	// Sent is what the senders wrote.
	Sent *Sent
	// Sinks reconciles each sink, in the order they ran.
	Sinks []SinkReport
	// Elapsed is the whole run's duration.
	Elapsed string
	// Routes reconciles each route's targets (a routed run, Options.Routes).
	Routes []RouteRow
	// Dropped counts the events a routed run's table drops on purpose.
	Dropped int
	// Misrouted counts events that landed in a target their route does not name.
	Misrouted int
	// Health is the watchdog's report after the run (nil without a health table).
	Health *health.Report
	// HeartbeatsDelivered counts heartbeat events found in any sink or target: must be 0.
	HeartbeatsDelivered int
	// Soak is the memory and throughput a soak run measured (Options.Soak).
	Soak *SoakReport
	// Hub reconciles a hub run (Options.Hub) per source and sink.
	Hub []HubRow
}

// Lost totals the lost events over the sinks.
func (r *Report) Lost() int {
	n := r.routedLost()
	for _, s := range r.Sinks {
		n += s.Lost
	}
	return n
}

// Summary is the demo's last line: `demo: sent N events; s3 N, firehose N, logs N; lost 0`.
func (r *Report) Summary() string {
	if r.Routes != nil {
		return r.routedSummary()
	}
	parts := make([]string, len(r.Sinks))
	for i, s := range r.Sinks {
		parts[i] = fmt.Sprintf("%s %d", s.Sink, s.Landed)
	}
	sent := 0
	if r.Sent != nil {
		sent = r.Sent.Events
	}
	return fmt.Sprintf("demo: sent %d events; %s; lost %d", sent, strings.Join(parts, ", "), r.Lost()) + r.faultsSummary() + r.hubSummary() + r.sendersSummary()
}

// HealthProblem says how sender health differs from what the run did:
// every sender ok, or with the last one stopped (Options.Silent) that one
// silent and the others ok; and no heartbeat in any sink.
func (r *Report) HealthProblem(silent bool) error {
	if n := r.DeliveredHeartbeats(); n > 0 {
		return fmt.Errorf("%d heartbeat events were delivered to a sink", n)
	}
	if r.Health == nil || r.Sent == nil {
		return nil
	}
	if r.Hub != nil {
		// Each source account in each region is a sender of its own.
		for _, snd := range r.Sent.Senders {
			got := "missing"
			for _, s := range r.Health.Senders {
				if s.Account == snd.Account && s.Region == snd.region() {
					got = s.State
				}
			}
			if got != health.StateOK {
				return fmt.Errorf("sender %s in %s is %s, want %s", snd.Account, snd.region(), got, health.StateOK)
			}
		}
		if len(r.Health.Senders) != len(r.Sent.Senders) {
			return fmt.Errorf("%d senders reported, want %d", len(r.Health.Senders), len(r.Sent.Senders))
		}
		return nil
	}
	for i, a := range r.Sent.Accounts {
		want := health.StateOK
		if silent && i == len(r.Sent.Accounts)-1 {
			want = health.StateSilent
		}
		got := "missing"
		for _, s := range r.Health.Senders {
			if s.Account == a {
				got = s.State
			}
		}
		if got != want {
			return fmt.Errorf("sender %s is %s, want %s", a, got, want)
		}
	}
	if len(r.Health.Senders) != len(r.Sent.Accounts) {
		return fmt.Errorf("%d senders reported, want %d", len(r.Health.Senders), len(r.Sent.Accounts))
	}
	return nil
}

// sendersSummary is the last line's sender-health part: "; senders 2 ok, 1 silent".
func (r *Report) sendersSummary() string {
	if r.Health == nil {
		return ""
	}
	return "; senders " + healthreport.Tally(r.Health)
}

// DeliveredHeartbeats totals the heartbeat events that reached a sink.
func (r *Report) DeliveredHeartbeats() int {
	n := r.HeartbeatsDelivered
	for _, s := range r.Sinks {
		n += s.Heartbeats
	}
	return n
}

// WriteTable prints the reconciliation table, one row per sink.
func (r *Report) WriteTable(w io.Writer) {
	if r.Routes != nil {
		r.writeRoutedTable(w)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sink\tsent\tlanded\tduplicates\tmissing\tquarantined\ton-failure\tlost\tinvocations\tretries\t")
	for _, s := range r.Sinks {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", s.Sink, s.Sent, s.Landed, s.Duplicates, s.Missing, s.Quarantined, s.OnFailure, s.Lost, s.Invocations, s.Retries)
	}
	_ = tw.Flush()
	for _, s := range r.Sinks {
		if s.PoisonRecords > 0 {
			fmt.Fprintf(w, "%s: %d undecodable records were quarantined (their events count as lost here)\n", s.Sink, s.PoisonRecords)
		}
	}
	r.writeHubTable(w)
	r.writeFaults(w)
}

// writeFaults prints, with -faults, what was injected into each sink's AWS
// requests and how much of it the retries absorbed.
func (r *Report) writeFaults(w io.Writer) {
	if r.Faults() == 0 {
		return
	}
	fmt.Fprintln(w, "\nfaults injected into the handlers' AWS requests, and absorbed (the same request answered later):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sink\tinjected\tthrottles\t5xx\ttimeouts\tabsorbed\trequest retries\tbatch retries\t")
	for _, s := range r.Sinks {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", s.Sink, s.Faults, s.Throttles, s.ServerErrors, s.Timeouts, s.Absorbed, s.RequestRetries, s.Retries)
	}
	_ = tw.Flush()
}

// Faults totals the faults injected into every sink's requests.
func (r *Report) Faults() int {
	n := 0
	for _, s := range r.Sinks {
		n += s.Faults
	}
	return n
}

// faultsSummary is the summary line's account of -faults ("" without).
func (r *Report) faultsSummary() string {
	if r.Faults() == 0 {
		return ""
	}
	absorbed := 0
	for _, s := range r.Sinks {
		absorbed += s.Absorbed
	}
	return fmt.Sprintf("; faults %d injected, %d absorbed", r.Faults(), absorbed)
}
