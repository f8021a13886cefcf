// Package doctor is `logfan doctor`: a read-only check of a deployed
// recipient stack (stream, destinations and their access policies, the
// role CloudWatch Logs assumes, each consumer's function, environment,
// event source mapping, metrics and logs, the quarantine and the
// on-failure records, sender health, alarms) and, with `logfan doctor
// sender`, of a sender account's side (subscription filters, heartbeat,
// permission). Each check prints PASS, WARN, FAIL or SKIP, its evidence,
// and for anything not passing the command that fixes it; the well-known
// messages of cross-account log sharing are named with their cause.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/logfan/logfan/internal/cli/sdkconfig"
	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/ops/deployment"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health/dynamohealth"
)

// DefaultProbeTimeout bounds -probe's wait.
const DefaultProbeTimeout = 5 * time.Minute

// ErrFailed is returned (wrapped) when a check failed: the CLI exits 1.
var ErrFailed = errors.New("checks failed")

// probeEvery is how often a probe reads the table.
var probeEvery = 10 * time.Second

var accountID = regexp.MustCompile(`^\d{12}$`)

// doctorUsage is what `logfan doctor -h` prints before the flags.
const doctorUsage = `usage: logfan doctor [-stack NAME] [-region R] [-json] [-probe -account A [-timeout 5m]]
       logfan doctor sender -destination ARN [-log-group G]... [flags]   (run with a sender's credentials)

Checks a deployed recipient stack end to end, read-only, with the recipient account's credentials:
each check prints PASS, WARN, FAIL or SKIP, its evidence and, when not passing, the command that
fixes it. Exit status: 0 when nothing fails, 1 when a check fails, 2 for a usage error.
`

// Run is `logfan doctor`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "sender" {
		return runSender(ctx, args[1:], stdout, stderr)
	}
	fs := usage.NewFlagSet("doctor", stderr, doctorUsage)
	asJSON := fs.Bool("json", false, `print a JSON array of {"check","status","evidence","fix"}`)
	doProbe := fs.Bool("probe", false, "also wait for the next heartbeat of -account and report its round trip")
	account := fs.String("account", "", "-probe: the sender account whose heartbeat to wait for")
	timeout := fs.Duration("timeout", DefaultProbeTimeout, "-probe: how long to wait")
	dep := deployment.AddFlags(fs)
	if err := usage.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usage.Errorf("unexpected arguments %q (the sender side is `logfan doctor sender`)", fs.Args())
	case *doProbe && !accountID.MatchString(*account):
		return usage.Errorf("-probe needs -account, the 12-digit sender account whose heartbeat to wait for (got %q)", *account)
	case !*doProbe && *account != "":
		return usage.Errorf("-account is for -probe")
	case *timeout <= 0:
		return usage.Errorf("-timeout %v: want a positive duration", *timeout)
	}
	cfg, err := sdkconfig.Load(ctx, dep.Region)
	if err != nil {
		return err
	}
	var rep *Report
	d, err := deployment.Load(ctx, cfg, dep.Stack)
	if err != nil {
		rep = &Report{}
		fix := "logfan doctor -stack NAME -region REGION   # the stack's name and region; or deploy it: make deploy"
		rep.fail("stack", fix, "%v", err)
	} else {
		rep = checkRecipient(ctx, d, time.Now())
		if *doProbe {
			table := d.Output(naming.OutputHealthTable)
			if table == "" {
				rep.fail("probe", "make deploy", "stack %s has no %s output to watch", d.Stack, naming.OutputHealthTable)
			} else {
				p := &probe{reader: dynamohealth.New(dynamodb.NewFromConfig(d.Config), table), account: *account,
					since: time.Now(), timeout: *timeout, every: probeEvery, now: time.Now}
				p.report(ctx, rep, "logfan doctor sender -destination "+d.Output(naming.OutputDestinationARN)+"   # in account "+*account)
			}
		}
	}
	return finish(rep, *asJSON, stdout)
}

// finish prints the report and turns a failed check into ErrFailed.
func finish(rep *Report, asJSON bool, stdout io.Writer) error {
	if err := rep.Write(stdout, asJSON); err != nil {
		return err
	}
	if n := rep.Count(Fail); n > 0 {
		return fmt.Errorf("%w: %d of %d (the fixes are printed under each)", ErrFailed, n, len(rep.Checks))
	}
	return nil
}

// repeated is a flag given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// doctorSenderUsage is what `logfan doctor sender -h` prints before the flags.
const doctorSenderUsage = `usage: logfan doctor sender -destination ARN [-log-group G]... [-heartbeat-log-group G] [-mode accounts|organization] [-region R] [-json]
                            [-probe [-recipient-profile P] [-recipient-stack S] [-recipient-region R] [-timeout 5m]]

Checks a sender account's side, read-only (but -probe writes one heartbeat event), with the sender's
credentials: each log group's subscription filters, the heartbeat and its schedule, and whether IAM
lets this identity call logs:PutSubscriptionFilter.
`

func runSender(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := usage.NewFlagSet("doctor sender", stderr, doctorSenderUsage)
	destination := fs.String("destination", "", "the recipient's destination ARN (the recipient stack's DestinationArn output)")
	var groups repeated
	fs.Var(&groups, "log-group", "a log group to check (repeatable; default: the sender stack's, else the account's subscription policy)")
	heartbeat := fs.String("heartbeat-log-group", "", "the heartbeat log group (default: the sender stack's, else "+config.DefaultHeartbeatLogGroup+")")
	mode := fs.String("mode", "", "the destination's sender mode, accounts or organization (default: the sender stack's), to check the filters' role ARN")
	senderStack := fs.String("sender-stack", naming.SenderStack, "the sender stack's name, if the account has one")
	region := fs.String("region", "", "the log groups' region (default: the AWS CLI's)")
	asJSON := fs.Bool("json", false, `print a JSON array of {"check","status","evidence","fix"}`)
	doProbe := fs.Bool("probe", false, "write one marked heartbeat and wait until the recipient has it (needs -recipient-profile to see it)")
	recipientProfile := fs.String("recipient-profile", "", "-probe: an AWS profile with the recipient account's credentials, to watch its sender-health table")
	recipientStack := fs.String("recipient-stack", naming.RecipientStack, "-probe: the recipient stack")
	recipientRegion := fs.String("recipient-region", "", "-probe: the recipient stack's region (default: the destination's)")
	timeout := fs.Duration("timeout", DefaultProbeTimeout, "-probe: how long to wait")
	if err := usage.Parse(fs, args); err != nil {
		return err
	}
	dst, err := arn.Parse(*destination)
	switch {
	case fs.NArg() > 0:
		return usage.Errorf("unexpected arguments %q", fs.Args())
	case *destination == "":
		return usage.Errorf("-destination is required: the recipient stack's DestinationArn output")
	case err != nil || dst.Service != "logs" || !strings.HasPrefix(dst.Resource, "destination:"):
		return usage.Errorf("-destination %q: want a CloudWatch Logs destination ARN, arn:aws:logs:REGION:ACCOUNT:destination:NAME", *destination)
	case *mode != "" && *mode != config.SenderModeAccounts && *mode != config.SenderModeOrganization:
		return usage.Errorf("-mode %q: want %s or %s", *mode, config.SenderModeAccounts, config.SenderModeOrganization)
	case *timeout <= 0:
		return usage.Errorf("-timeout %v: want a positive duration", *timeout)
	case !*doProbe && (*recipientProfile != "" || *recipientRegion != ""):
		return usage.Errorf("-recipient-profile and -recipient-region are for -probe")
	}
	for _, g := range groups {
		if err := config.CheckGroupTemplate(g); err != nil || strings.ContainsAny(g, "{}*") {
			return usage.Errorf("-log-group %q: not a log group name", g)
		}
	}
	cfg, err := sdkconfig.Load(ctx, *region)
	if err != nil {
		return err
	}
	s, rep := checkSender(ctx, senderOptions{
		Destination: *destination, LogGroups: groups, Heartbeat: *heartbeat, Mode: *mode, SenderStack: *senderStack, Config: cfg, Now: time.Now(),
	})
	if *doProbe {
		s.probe(ctx, *recipientProfile, *recipientStack, *recipientRegion, *timeout)
	}
	return finish(rep, *asJSON, stdout)
}

// probe writes one marked heartbeat and, given the recipient's
// credentials, waits until the recipient's table has it.
func (s *sender) probe(ctx context.Context, profile, stack, region string, timeout time.Duration) {
	group := s.o.Heartbeat
	if group == "" {
		group = config.DefaultHeartbeatLogGroup
	}
	const stream = "logfan-doctor-probe"
	if _, err := s.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil && apiCode(err) != "ResourceAlreadyExistsException" {
		s.rep.fail("probe", "aws logs create-log-group --log-group-name "+group, "cannot write to %s: %v", group, err)
		return
	}
	start := time.Now()
	id := uuid.NewString()
	if _, err := s.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		LogEvents: []cwltypes.InputLogEvent{{Timestamp: aws.Int64(start.UnixMilli()), Message: aws.String(probeMessage(id, s.account, s.o.Config.Region, start))}},
	}); err != nil {
		s.rep.fail("probe", "", "write the probe to %s: %v", group, err)
		return
	}
	if profile == "" {
		s.rep.warn("probe", "logfan doctor -probe -account "+s.account+"   # in the recipient account, within "+timeout.String(),
			"probe %s written to %s/%s at %s; this account cannot see the recipient's table: pass -recipient-profile, or watch from the recipient account",
			id, group, stream, start.UTC().Format(time.RFC3339))
		return
	}
	if region == "" {
		region = s.dst.Region
	}
	rcfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithSharedConfigProfile(profile), awsconfig.WithRegion(region))
	if err != nil {
		s.rep.fail("probe", "", "profile %s: %v", profile, err)
		return
	}
	d, err := deployment.Load(ctx, rcfg, stack)
	if err != nil {
		s.rep.fail("probe", "logfan doctor sender -probe -recipient-profile "+profile+" -recipient-stack NAME -recipient-region REGION", "%v", err)
		return
	}
	table := d.Output(naming.OutputHealthTable)
	p := &probe{reader: dynamohealth.New(dynamodb.NewFromConfig(rcfg), table), account: s.account, since: start, timeout: timeout, every: probeEvery, now: time.Now}
	p.report(ctx, s.rep, "logfan doctor -stack "+stack+" -region "+region+"   # with the recipient's credentials: its mapping, metrics and logs")
}
