package backfill

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/logfan/logfan/internal/cli/cliflag"
	"github.com/logfan/logfan/internal/cli/clitime"
	"github.com/logfan/logfan/internal/cli/sdkconfig"
	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/routes"
)

// DefaultCheckpoint is the checkpoint file's default path.
const DefaultCheckpoint = "logfan-backfill.json"

// backfillUsage is what `logfan backfill -h` prints before the flags.
const backfillUsage = `usage: logfan backfill -log-group NAME ... -stream ARN [-role-arn ARN -external-id ID] [-since T] [-until T]

Run with a sender account's credentials: reads the log groups' history (events ingested before
their subscription existed) and puts it into the recipient's stream as subscription payloads,
so the pipeline treats it as live data. Safe to run again with the same window: the checkpoint
file says what was put.
`

// Run is `logfan backfill`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseFlags(args, stderr, time.Now())
	if err != nil {
		return err
	}
	sender, writer, err := f.clients(ctx)
	if err != nil {
		return err
	}
	rep, err := Options{
		Logs: cloudwatchlogs.NewFromConfig(sender), Kinesis: kinesis.NewFromConfig(writer), StreamARN: f.stream,
		Groups: f.groups, Destination: f.dest, Since: f.rng.Since, Until: f.rng.Until, Checkpoint: f.checkpoint, MaxRPS: f.rps,
		Progress: stderr,
	}.Run(ctx)
	if err != nil {
		return err
	}
	if f.asJSON {
		if err := cliflag.WriteJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		WriteTable(stdout, rep)
	}
	if err := rep.Problem(); err != nil {
		return err
	}
	if len(rep.Groups) > 0 {
		fmt.Fprintf(stderr, "backfill: done; the checkpoint %s may be deleted\n", f.checkpoint)
	}
	return nil
}

// flags are `logfan backfill`'s flags, checked.
type flags struct {
	groups                                 cliflag.List
	stream, role, externalID, dest, region string
	checkpoint                             string
	streamARN                              arn.ARN
	rng                                    clitime.Range
	rps                                    float64
	asJSON                                 bool
}

// parseFlags parses the flags and checks them all, the time window
// against now; every problem is in one usage error.
func parseFlags(args []string, stderr io.Writer, now time.Time) (*flags, error) {
	fs := usage.NewFlagSet("backfill", stderr, backfillUsage)
	var groups cliflag.List
	fs.Var(&groups, "log-group", "log groups to backfill: names or route-table globs ('*', '**'), comma-separated or repeated")
	stream := fs.String("stream", "", "the recipient's Kinesis stream ARN (the recipient stack's StreamArn output)")
	role := fs.String("role-arn", "", "the recipient's backfill role to assume for writing the stream (the stack's BackfillRoleArn output; needs backfillSenders); without it the current credentials write")
	externalID := fs.String("external-id", "", "the external ID the backfill role requires (the stack's backfillExternalId)")
	dest := fs.String("destination", "", "the destination ARN the log groups' subscription filters send to (default: a destination named "+naming.Destination+", or -stream itself)")
	since := fs.String("since", "", "read from this time: "+clitime.Want+" (default: the oldest the log group can hold, 14 days before its creation)")
	until := fs.String("until", "", "read up to this time (default: the subscription filter's start, so nothing is sent twice)")
	region := fs.String("region", "", "the sender's region, where the log groups are (default: the AWS CLI's)")
	checkpoint := fs.String("checkpoint", DefaultCheckpoint, "the checkpoint file: an interrupted run continues from it")
	rps := fs.Float64("max-rps", defaultMaxRPS, "FilterLogEvents calls per second (its quota is 5 per account and region, shared with anyone reading these logs)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := usage.Parse(fs, args); err != nil {
		return nil, err
	}
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if fs.NArg() > 0 {
		bad("unexpected arguments %q: every setting is a flag", fs.Args())
	}
	if len(groups) == 0 {
		bad("-log-group is required: the log groups whose history to send")
	}
	for _, g := range groups {
		if _, err := routes.CompileLogGroupPattern(g); err != nil {
			bad("-log-group: %v", err)
		}
	}
	streamARN, err := arn.Parse(*stream)
	if err != nil || streamARN.Service != "kinesis" || !strings.HasPrefix(streamARN.Resource, "stream/") {
		bad("-stream %q: want the recipient's Kinesis stream ARN, arn:aws:kinesis:REGION:ACCOUNT:stream/NAME (the recipient stack's StreamArn output)", *stream)
	}
	if *role != "" {
		if r, err := arn.Parse(*role); err != nil || r.Service != "iam" || !strings.HasPrefix(r.Resource, "role/") {
			bad("-role-arn %q: want an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME", *role)
		}
	} else if *externalID != "" {
		bad("-external-id goes with -role-arn")
	}
	if *dest != "" {
		if d, err := arn.Parse(*dest); err != nil || (d.Service != "logs" && d.Service != "kinesis") {
			bad("-destination %q: want a CloudWatch Logs destination ARN, arn:aws:logs:REGION:ACCOUNT:destination:NAME", *dest)
		}
	}
	rng, err := clitime.ParseRange(*since, *until, now)
	if err != nil {
		bad("%v", err)
	}
	if *rps <= 0 || *rps > 5 {
		bad("-max-rps %g: want more than 0 and at most 5 (FilterLogEvents' quota per account and region)", *rps)
	}
	if *checkpoint == "" {
		bad("-checkpoint must name a file")
	}
	if len(errs) > 0 {
		return nil, usage.Errorf("%s", strings.Join(errs, "\n"))
	}
	return &flags{
		groups: groups, stream: *stream, role: *role, externalID: *externalID, dest: *dest, region: *region,
		checkpoint: *checkpoint, streamARN: streamARN, rng: rng, rps: *rps, asJSON: *asJSON,
	}, nil
}

// clients returns the AWS configuration of the sender, which reads the
// log groups, and of the writer of the stream: the sender's credentials
// in the stream's region, or the recipient's backfill role assumed with
// them.
func (f *flags) clients(ctx context.Context) (sender, writer aws.Config, err error) {
	if sender, err = sdkconfig.Load(ctx, f.region); err != nil {
		return sender, writer, err
	}
	writer = sender.Copy()
	writer.Region = f.streamARN.Region
	if f.role != "" {
		writer.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(sender), f.role, func(o *stscreds.AssumeRoleOptions) {
			if f.externalID != "" {
				o.ExternalID = aws.String(f.externalID)
			}
			o.RoleSessionName = "logfan-backfill"
		}))
	}
	return sender, writer, nil
}

// WriteTable prints the report, one line per log group: events read and put.
func WriteTable(w io.Writer, rep *Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOG GROUP\tSUBSCRIBED AT\tREAD\tLIVE\tALREADY PUT\tPUT\tRECORDS\tMB\tDONE")
	for _, g := range rep.Groups {
		at := "-"
		if g.SubscribedAt != nil {
			at = g.SubscribedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.2f\t%t\n", g.LogGroup, at, g.Read, g.Live, g.AlreadyPut, g.Put, g.Records, float64(g.Bytes)/1e6, g.Done)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "read: events in the window this run; live: left out, the subscription delivered them; %d FilterLogEvents calls, %.1fs\n", rep.Calls, rep.Seconds)
}
