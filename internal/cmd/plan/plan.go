// Package plan is `logfan plan`: from a daily log volume to the stream's
// mode and shards, how the sinks read it, the event source mappings'
// settings, the functions' memory and concurrency, the sinks' quotas, and
// a monthly bill per service, with warnings where a limit comes near. The
// arithmetic is internal/ops/capacity's; this package reads flags and prints.
package plan

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/logfan/logfan/internal/cli/cliflag"
	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/ops/capacity"
)

// planUsage is what -h prints above the flags.
const planUsage = `usage: logfan plan -daily SIZE [-peak N] [-event-bytes N] [-ratio N] [-events-per-record N]
                   [-senders N] [-log-groups N] [-sink s3,firehose,logs] [-share s3=1,...] [-region R] [-json]

Sizes a logfan deployment for a daily volume of log JSON: the stream (on demand
or provisioned, shards at 80% of 1 MiB/s and 1,000 records/s each at the peak,
the cheaper at that volume), standard consumers or enhanced fan-out (2 MiB/s
per shard), the event source mappings' batch size, window and parallelization,
the functions' memory (make cost's measured throughput and peak heap, and a
decompression cap holding a full batch's JSON), Firehose streams,
PutLogEvents and S3 PUT rates against their quotas, and a monthly bill per
service at us-east-1 prices. Prints the CDK context keys to deploy it with.

`

// Run is `logfan plan`. Every flag is checked before anything is computed;
// a bad one is a usage error (exit 2) naming the accepted values.
func Run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := usage.NewFlagSet("plan", stderr, planUsage)
	daily := fs.String("daily", "", "log JSON the senders send a day (uncompressed subscription JSON): 10GB, 1TB, 2.5TB (10^9 and 10^12 bytes; a bare number is GB); required")
	peak := fs.Float64("peak", 3, "peak rate over the day's mean rate: shards and settings are sized for the peak")
	eventBytes := fs.Float64("event-bytes", capacity.Sample.EventBytes, "mean subscription JSON per log event, bytes (its message plus about 118); default measured on the sample data")
	ratio := fs.Float64("ratio", capacity.Sample.Ratio, "gzip compression ratio of the subscription payloads (JSON bytes per stream byte); default measured on the sample data")
	perRecord := fs.Float64("events-per-record", capacity.Sample.EventsPerRecord, "mean log events per Kinesis record (CloudWatch Logs batches one log stream's events per record; quiet streams send fewer)")
	senders := fs.Int("senders", 10, "sender accounts times their regions")
	logGroups := fs.Int("log-groups", 20, "mean active log groups per sender")
	sinks := cliflag.NewSinks(capacity.Sinks)
	fs.Var(sinks, "sink", "enabled sinks, comma-separated or repeated")
	cliflag.Deprecated(fs, "sinks", "sink", stderr)
	shares := fs.String("share", "", "deliveries each sink receives per event through the routes, e.g. s3=1,firehose=0.3,logs=0.1 (default 1 for each enabled sink; 2 = every event to two of its targets)")
	region := fs.String("region", "us-east-1", "the stack's region: picks the Firehose and shard quotas (prices are us-east-1's)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	if err := usage.Parse(fs, args); err != nil {
		return err
	}
	in, err := input(fs, *daily, *peak, *eventBytes, *ratio, *perRecord, *senders, *logGroups, sinks.String(), *shares, *region)
	if err != nil {
		return usage.Wrap(err)
	}
	p := capacity.Compute(in)
	if *asJSON {
		return cliflag.WriteJSON(stdout, p)
	}
	return Write(stdout, p)
}

// input builds and validates the plan's input from the flags.
func input(fs *flag.FlagSet, daily string, peak, eventBytes, ratio, perRecord float64, senders, logGroups int, sinks, shares, region string) (capacity.Input, error) {
	if fs.NArg() > 0 {
		return capacity.Input{}, fmt.Errorf("unexpected argument %q: every input is a flag", fs.Arg(0))
	}
	if daily == "" {
		return capacity.Input{}, fmt.Errorf("-daily is required: the log JSON the senders send a day, e.g. -daily 1TB")
	}
	bytes, err := ParseSize(daily)
	if err != nil {
		return capacity.Input{}, err
	}
	in := capacity.Input{
		DailyBytes: bytes, PeakFactor: peak,
		Workload: capacity.Workload{Ratio: ratio, EventBytes: eventBytes, EventsPerRecord: perRecord},
		Senders:  senders, LogGroupsPerSender: logGroups, Shares: map[string]float64{}, Region: region,
	}
	for _, s := range strings.Split(sinks, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(capacity.Sinks, s) {
			return in, fmt.Errorf("-sink: unknown sink %q: the sinks are %s", s, strings.Join(capacity.Sinks, ", "))
		}
		if _, dup := in.Shares[s]; dup {
			return in, fmt.Errorf("-sink: %s is named twice", s)
		}
		in.Shares[s] = 1
	}
	if shares != "" {
		for _, kv := range strings.Split(shares, ",") {
			k, v, ok := strings.Cut(kv, "=")
			k = strings.TrimSpace(k)
			if !ok {
				return in, fmt.Errorf("-share: %q is not sink=share (e.g. firehose=0.3)", kv)
			}
			if _, on := in.Shares[k]; !on {
				return in, fmt.Errorf("-share: %q is not among the enabled sinks (-sink %s)", k, sinks)
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return in, fmt.Errorf("-share: %s=%q is not a number", k, v)
			}
			in.Shares[k] = f
		}
	}
	return in, in.Validate()
}

// ParseSize reads a daily volume: a number with an optional unit GB, TB
// or PB (powers of 10, as logfan's figures use), GB when none is given.
func ParseSize(s string) (float64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	unit := 1e9
	for _, u := range []struct {
		suffix string
		bytes  float64
	}{{"PB", 1e15}, {"TB", 1e12}, {"GB", 1e9}} {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, unit = strings.TrimSpace(n), u.bytes
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return 0, fmt.Errorf("-daily %q: give a positive size such as 10GB, 1TB or 2.5TB", s)
	}
	return v * unit, nil
}

// Write prints p for a person, one section after the other.
func Write(w io.Writer, p capacity.Plan) error {
	writeHeader(w, p)
	writeLoad(w, p.Rates)
	if err := writeStream(w, p.Stream); err != nil {
		return err
	}
	if err := writeMappings(w, p.Mapping, p.Rates); err != nil {
		return err
	}
	writeQuotas(w, p.Quotas)
	writeBill(w, p)
	return writeDeploy(w, p)
}

// writeHeader prints the line that restates the input.
func writeHeader(w io.Writer, p capacity.Plan) {
	in, r := p.Input, p.Rates
	var shares []string
	for _, s := range in.EnabledSinks() {
		shares = append(shares, fmt.Sprintf("%s %g", s, in.Shares[s]))
	}
	fmt.Fprintf(w, "logfan plan: %s of log JSON a day (peak %gx), %.0f-byte events, gzip ratio %.2f, %s events per record (%s records); %d senders x %d log groups; %s; %s\n\n",
		size(in.DailyBytes), in.PeakFactor, in.EventBytes, in.Ratio, num(in.EventsPerRecord), size(r.RecordBytes), in.Senders, in.LogGroupsPerSender, strings.Join(shares, ", "), in.Region)
}

// writeLoad prints the average and peak rates of JSON and of the stream.
func writeLoad(w io.Writer, r capacity.Rates) {
	fmt.Fprintln(w, "Load")
	fmt.Fprintf(w, "  JSON          %s/s on average, %s/s at the peak; %s events/s, %s at the peak\n", size(r.AvgJSON), size(r.PeakJSON), num(r.AvgEvents), num(r.PeakEvents))
	fmt.Fprintf(w, "  stream        %s/s on average, %s/s (%.2f MiB/s) at the peak; %s records/s, %s at the peak\n\n", size(r.AvgStream), size(r.PeakStream), r.PeakStream/capacity.MiB, num(r.AvgRecords), num(r.PeakRecords))
}

// writeStream prints the stream chosen, every option weighed, and which
// mode is cheaper at this volume.
func writeStream(w io.Writer, st capacity.Stream) error {
	chosen := st.Options[st.Chosen]
	fmt.Fprintf(w, "Stream: %s, %d shards, %s consumers, $%s a month\n", chosen.Mode, chosen.Shards, chosen.Reads, money(chosen.USD))
	fmt.Fprintf(w, "  writes need %d shards at the peak (each at most 80%% of 1 MiB/s and 1,000 records/s; %s bind)\n", st.WriteShards, st.BoundBy)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  mode\treads\tshards\treads of 2 MiB/s at the peak\t$/month\t")
	cheapest := map[string]float64{}
	for i, o := range st.Options {
		readShare := "own 2 MiB/s each"
		if o.Reads == capacity.Standard {
			readShare = fmt.Sprintf("%.0f%%", 100*o.ReadShare)
		}
		note := ""
		switch {
		case i == st.Chosen:
			note = "<- chosen"
		case !o.Feasible:
			note = "ruled out: " + o.Why
		}
		if o.Feasible && (cheapest[o.Mode] == 0 || o.USD < cheapest[o.Mode]) {
			cheapest[o.Mode] = o.USD
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\n", o.Mode, o.Reads, o.Shards, readShare, money(o.USD), note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if od, pr := cheapest[capacity.OnDemand], cheapest[capacity.Provisioned]; od > 0 && pr > 0 {
		mode, other := capacity.Provisioned, capacity.OnDemand
		if od < pr {
			mode, other = other, mode
		}
		fmt.Fprintf(w, "  cheaper at this volume: %s ($%s against $%s %s)\n", mode, money(min(od, pr)), money(max(od, pr)), other)
	}
	fmt.Fprintln(w)
	return nil
}

// writeMappings prints the event source mappings' settings and each
// function's share, CPU, memory and concurrency.
func writeMappings(w io.Writer, m capacity.Mapping, r capacity.Rates) error {
	fmt.Fprintln(w, "Event source mappings and functions")
	fmt.Fprintf(w, "  batchSize %d (6 MB of invocation payload holds %d records of %s), batchWindowSeconds %d, parallelizationFactor %d\n",
		m.BatchSize, m.BatchSize, size(r.RecordBytes), m.BatchWindowSeconds, m.ParallelizationFactor)
	fmt.Fprintf(w, "  %s invocations/s per function on average, %s at the peak\n", num(m.AvgInvocations), num(m.PeakInvocations))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  function\tshare\tMB/s per core\tvCPU at a shard's peak (x2)\tmemory MB\tconcurrency\tinvocations/month\t")
	for _, f := range m.Functions {
		fmt.Fprintf(tw, "  %s\t%g\t%.0f\t%.3f\t%d\t%d\t%s\t\n", f.Sink, f.Share, f.MBps, f.VCPU, f.MemoryMB, f.Concurrency, num(f.Invocations))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "  functionMemoryMB %d (the largest; the stack sets one size); %d instances at once at the peak, of the account's default %s\n\n",
		m.FunctionMemoryMB, m.Concurrency, num(capacity.AccountConcurrency))
	return nil
}

// writeQuotas prints the sinks' use of their service quotas at the peak.
func writeQuotas(w io.Writer, q capacity.Quotas) {
	fmt.Fprintln(w, "Quotas at the peak")
	if q.FirehoseBytes > 0 {
		streams := "streams"
		if q.FirehoseStreams == 1 {
			streams = "stream"
		}
		fmt.Fprintf(w, "  Firehose      %.2f MiB/s, %s records/s, %s requests/s: %d %s of %.0f MiB/s, %s requests/s, %s records/s (each at most 80%%)\n",
			q.FirehoseBytes/capacity.MiB, num(q.FirehoseRecords), num(q.FirehoseRequests), q.FirehoseStreams, streams, q.FirehoseQuota.Bytes/capacity.MiB, num(q.FirehoseQuota.Requests), num(q.FirehoseQuota.Records))
	}
	if q.PutLogEvents > 0 {
		fmt.Fprintf(w, "  PutLogEvents  %s calls/s of the account's %s/s in the region (%.1f%%)\n", num(q.PutLogEvents), num(q.PutLogEventsQuota), 100*q.PutLogEvents/q.PutLogEventsQuota)
	}
	if q.S3Puts > 0 {
		fmt.Fprintf(w, "  S3            %s PUTs/s; at worst %s/s into one prefix, of %s\n", num(q.S3Puts), num(q.S3PutsPerPrefix), num(q.S3PrefixLimit))
	}
	fmt.Fprintln(w)
}

// writeBill prints the monthly bill, line by line in aligned columns, per
// service and in total.
func writeBill(w io.Writer, p capacity.Plan) {
	fmt.Fprintf(w, "Monthly bill (USD, us-east-1 prices read %s, 730 hours)\n", capacity.PricesRead)
	perService := map[string]float64{}
	var order []string
	rows := make([][4]string, 0, len(p.Bill))
	var width [4]int
	for _, l := range p.Bill {
		if _, ok := perService[l.Service]; !ok {
			order = append(order, l.Service)
		}
		perService[l.Service] += l.USD
		row := [4]string{l.Service, l.Item, num(l.Quantity) + " " + l.Unit, money(l.USD)}
		for i := range row {
			width[i] = max(width[i], len(row[i]))
		}
		rows = append(rows, row)
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-*s  %-*s  %*s  %*s\n", width[0], row[0], width[1], row[1], width[2], row[2], width[3], row[3])
	}
	var sums []string
	for _, s := range order {
		sums = append(sums, fmt.Sprintf("%s $%s", s, money(perService[s])))
	}
	fmt.Fprintf(w, "  per service: %s\n  total: $%s a month\n\n", strings.Join(sums, ", "), money(p.Total))
}

// writeDeploy prints the warnings, the context to deploy with, and the
// sources of the figures.
func writeDeploy(w io.Writer, p capacity.Plan) error {
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w, "Warnings")
		for _, x := range p.Warnings {
			fmt.Fprintf(w, "  - %s\n", x)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Deploy with")
	fmt.Fprintf(w, "  CDK_ARGS='-c %s'\n\n", strings.Join(p.Context, " -c "))
	fmt.Fprintln(w, "Sources")
	for _, s := range p.Sources {
		fmt.Fprintf(w, "  %s\n", s)
	}
	_, err := fmt.Fprintln(w, "  not in the bill: the functions' network waits (billed at their memory size), Firehose's own delivery to its destination, CloudWatch Logs storage, the health table's reads by the watchdog, alarms and the dashboard")
	return err
}

// size formats bytes with a decimal unit.
func size(b float64) string {
	for _, u := range []struct {
		name string
		v    float64
	}{{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}} {
		if b >= u.v {
			return trim(b/u.v) + " " + u.name
		}
	}
	return trim(b) + " bytes"
}

// trim prints 3 significant digits, without trailing zeros.
func trim(v float64) string {
	s := strconv.FormatFloat(v, 'f', max(0, 2-int(math.Floor(math.Log10(max(v, 1))))), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// num formats a count: thousands separated below ten million, "12.3 M" or
// "4.5 G" above, three significant digits below ten.
func num(v float64) string {
	switch {
	case v >= 1e10:
		return trim(v/1e9) + " G"
	case v >= 1e7:
		return trim(v/1e6) + " M"
	case v >= 10:
		return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	default:
		return trim(v)
	}
}

// money formats dollars with cents and thousands separators.
func money(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	whole, cents, _ := strings.Cut(s, ".")
	return group(whole) + "." + cents
}

func group(digits string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
