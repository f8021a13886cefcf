package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/logfan/logfan/internal/devkit/localenv"

	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/subscription"
)

// HubRegion is the second region the hub run's source accounts log in,
// besides Region.
const HubRegion = "us-west-2"

// HubSenders are the sources of a hub run (-hub): DemoAccounts in Region
// and HubRegion, whose log events CloudWatch Logs centralization copied
// into the recipient account hub. Their records are the hub's payloads,
// written into the stream as the stack's hub subscription filters deliver
// them (emitSystemFields), since moto emulates neither centralization nor
// system fields.
func HubSenders(hub string) []Sender {
	var out []Sender
	for _, a := range localenv.DemoAccounts {
		for _, r := range []string{localenv.Region, HubRegion} {
			out = append(out, Sender{Account: a, Region: r, Hub: hub, Direct: true})
		}
	}
	return out
}

// systemFields is what a subscription filter's emitSystemFields adds to
// each event it forwards.
func systemFields(account, region string) json.RawMessage {
	return json.RawMessage(`{"@aws.account":"` + account + `","@aws.region":"` + region + `"}`)
}

// centralize turns m, snd's own record, into the hub's: owned by the hub
// account, each event naming its source in its system fields; with other
// set, every second event is other's instead. It returns each event's
// origin.
func centralize(m *subscription.Message, snd Sender, other *Sender) []Origin {
	m.Owner = snd.Hub
	origins := make([]Origin, len(m.LogEvents))
	for j := range m.LogEvents {
		src := snd
		if other != nil && j%2 == 1 {
			src = *other
		}
		m.LogEvents[j].ExtractedFields = systemFields(src.Account, src.region())
		origins[j] = Origin{Account: src.Account, Region: src.region()}
	}
	return origins
}

// Landed is one event as a sink kept it, with the source it was attributed to.
type Landed struct {
	// N is the event's number in the run, -1 for an event of no run of the demo.
	N int
	// Owner is the account the sink filed the event under.
	Owner string
	// Region is the event's region, when the sink keeps it (RegionKept).
	Region     string
	RegionKept bool
}

// landedOf numbers the records of run.
func landedOf(run string, recs []record.Event) []Landed {
	out := make([]Landed, len(recs))
	for i, r := range recs {
		out[i] = Landed{N: -1, Owner: r.Owner, Region: r.Region, RegionKept: true}
		if got, n, ok := parseKey(r.Message); ok && got == run {
			out[i].N = n
		}
	}
	return out
}

// HubRow reconciles one source of a hub run in one sink: the events
// centralized from Account in Region, how many landed attributed to that
// account (and region, where the sink keeps it), and how many landed
// attributed to another.
type HubRow struct {
	Sink, Account, Region string
	Sent, Landed          int
	Misattributed         int
	// RegionKept is false for a sink that keeps no region (the logs sink:
	// only the account, in the target group's name).
	RegionKept bool
}

// reconcileHub compares each landed event's attribution with its origin,
// per source, for one sink.
func reconcileHub(sink string, origins []Origin, landed []Landed) []HubRow {
	rows := map[Origin]*HubRow{}
	var order []Origin
	for _, o := range origins {
		if rows[o] == nil {
			rows[o] = &HubRow{Sink: sink, Account: o.Account, Region: o.Region, RegionKept: true}
			order = append(order, o)
		}
		rows[o].Sent++
	}
	seen := make([]bool, len(origins))
	for _, l := range landed {
		if l.N < 0 || l.N >= len(origins) || seen[l.N] {
			continue // not this run's, or a duplicate (counted by reconcile)
		}
		seen[l.N] = true
		o := origins[l.N]
		row := rows[o]
		row.RegionKept = l.RegionKept
		if l.Owner == o.Account && (!l.RegionKept || l.Region == o.Region) {
			row.Landed++
		} else {
			row.Misattributed++
		}
	}
	slices.SortFunc(order, func(a, b Origin) int { return strings.Compare(a.Account+a.Region, b.Account+b.Region) })
	out := make([]HubRow, len(order))
	for i, o := range order {
		out[i] = *rows[o]
	}
	return out
}

// Misattributed totals the hub run's events filed under another source.
func (r *Report) Misattributed() int {
	n := 0
	for _, h := range r.Hub {
		n += h.Misattributed
	}
	return n
}

// hubSummary is the last line's hub part: "; 4 sources attributed".
func (r *Report) hubSummary() string {
	if r.Hub == nil {
		return ""
	}
	sources := map[string]bool{}
	for _, h := range r.Hub {
		sources[h.Account+"/"+h.Region] = true
	}
	return fmt.Sprintf("; %d sources (accounts x regions) attributed, %d misattributed", len(sources), r.Misattributed())
}

// writeHubTable prints, per source, what each sink filed under it.
func (r *Report) writeHubTable(w io.Writer) {
	if r.Hub == nil {
		return
	}
	var sinks []string
	for _, h := range r.Hub {
		if !slices.Contains(sinks, h.Sink) {
			sinks = append(sinks, h.Sink)
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "source (owner/region)\tsent\t")
	for _, s := range sinks {
		fmt.Fprintf(tw, "%s\t", s)
	}
	fmt.Fprintln(tw, "misattributed\t")
	type key struct{ account, region string }
	bySource := map[key][]HubRow{}
	var order []key
	for _, h := range r.Hub {
		k := key{h.Account, h.Region}
		if bySource[k] == nil {
			order = append(order, k)
		}
		bySource[k] = append(bySource[k], h)
	}
	notes := map[string]bool{}
	for _, k := range order {
		rows := bySource[k]
		fmt.Fprintf(tw, "%s/%s\t%d\t", k.account, k.region, rows[0].Sent)
		mis := 0
		for _, s := range sinks {
			for _, h := range rows {
				if h.Sink == s {
					fmt.Fprintf(tw, "%d\t", h.Landed)
					mis += h.Misattributed
					if !h.RegionKept {
						notes[s] = true
					}
				}
			}
		}
		fmt.Fprintf(tw, "%d\t\n", mis)
	}
	_ = tw.Flush()
	for _, s := range sinks {
		if notes[s] {
			fmt.Fprintf(w, "%s: keeps the account (in the target group's name), not the region: checked by account only\n", s)
		}
	}
}

// hubProblem says how a hub run's attribution differs from its sources.
func (r *Report) hubProblem() error {
	for _, h := range r.Hub {
		if h.Misattributed > 0 {
			return fmt.Errorf("%s: %d events of %s in %s filed under another source", h.Sink, h.Misattributed, h.Account, h.Region)
		}
	}
	return nil
}

// readLanded reads back what the target kept with its attribution, when
// the target can tell it (Target.Attributed).
func readLanded(ctx context.Context, t Target, run string) ([]Landed, error) {
	if t.Attributed == nil {
		return nil, fmt.Errorf("%s: cannot read back the events' owners", t.Sink)
	}
	return t.Attributed(ctx, run)
}

// recordsLanded reads the NDJSON records under prefix of bucket.
func recordsLanded(ctx context.Context, c *localenv.Clients, run, bucket, prefix string) ([]Landed, error) {
	recs, _, err := readback.Records(ctx, c.S3, bucket, prefix)
	if err != nil {
		return nil, fmt.Errorf("read back s3://%s/%s: %w", bucket, prefix, err)
	}
	return landedOf(run, recs), nil
}
