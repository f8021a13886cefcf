package doctor

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/logfan/logfan/internal/ops/naming"
)

// alarmHint is what to run for one of the stack's alarms, by the end of
// its logical ID (the alarm table of docs/operate.md says the same).
type alarmHint struct {
	suffix, what, run string
}

// alarmHints covers every alarm the recipient stack creates.
var alarmHints = []alarmHint{
	{"IteratorAgeAlarm", "a consumer is behind the stream", "logfan doctor %s   # its metrics and mapping; raise parallelizationFactor or memory if it keeps up too slowly"},
	{"OnFailureDeliveryFailuresAlarm", "Lambda could not write failed batches to the quarantine bucket: records lost", "aws s3api get-bucket-policy --bucket QUARANTINE_BUCKET   # and the function role's QuarantinePolicy"},
	{"ErrorsAlarm", "a consumer failed whole invocations", "aws logs tail LOG_GROUP --since 1h --filter-pattern ERROR"},
	{"OnFailureRecordsAlarm", "batches or items went to the quarantine bucket", "logfan quarantine list %s; logfan redrive %s -sink SINK -dry-run"},
	{"SilentSendersAlarm", "a sender stopped sending heartbeats (or the watchdog stopped)", "logfan senders %s"},
	{"ReadThroughputExceededAlarm", "the consumers read more than the shards give", "make deploy CDK_ARGS=\"-c enhancedFanOut=true\""},
	{"WriteThroughputExceededAlarm", "CloudWatch Logs' writes are throttled: retried 24 hours, then dropped", "make deploy CDK_ARGS=\"-c streamMode=on-demand\"   # or more shards"},
}

// alarmLogGroup is the log group of the function a per-function alarm
// watches: the stack gives each function its own group with a generated
// name, not /aws/lambda/<function>, so the hint names the one it read.
func (r *recipient) alarmLogGroup(alarm, suffix string) string {
	for sink, fn := range r.d.Functions {
		if fn != nil && fn.LogGroup != "" && strings.Contains(alarm, "-"+naming.SinkID(sink)+suffix) {
			return fn.LogGroup
		}
	}
	return "<the function's log group, from aws lambda get-function-configuration: LoggingConfig.LogGroup>"
}

func hintFor(name string) *alarmHint {
	// The logical ID is the name's middle part: <stack>-<LogicalID>-<suffix>.
	for i := range alarmHints {
		if strings.Contains(name, alarmHints[i].suffix) {
			return &alarmHints[i]
		}
	}
	return nil
}

// alarms lists the stack's alarms (those notifying its topic) in ALARM.
func (r *recipient) alarms(ctx context.Context) {
	const check = "alarms"
	topic := r.d.Output(naming.OutputAlarmTopic)
	if topic == "" {
		r.rep.skip(check, "stack %s has no %s output: its alarms cannot be told from others (the demo registers none)", r.d.Stack, naming.OutputAlarmTopic)
		return
	}
	var mine []cwtypes.MetricAlarm
	p := cloudwatch.NewDescribeAlarmsPaginator(r.cw, &cloudwatch.DescribeAlarmsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.rep.skip(check, "cannot list alarms: %v", err)
			return
		}
		for _, a := range page.MetricAlarms {
			if slices.Contains(a.AlarmActions, topic) {
				mine = append(mine, a)
			}
		}
	}
	if len(mine) == 0 {
		r.rep.warn(check, "make deploy", "no alarm notifies %s: the stack's alarms are missing", topic)
		return
	}
	var firing, fixes []string
	for _, a := range mine {
		if a.StateValue != cwtypes.StateValueAlarm {
			continue
		}
		name := aws.ToString(a.AlarmName)
		line := name + " (" + aws.ToString(a.StateReason) + ")"
		if h := hintFor(name); h != nil {
			line = name + ": " + h.what
			run := strings.ReplaceAll(h.run, "%s", r.where)
			run = strings.ReplaceAll(run, "QUARANTINE_BUCKET", r.quarBkt)
			run = strings.ReplaceAll(run, "LOG_GROUP", r.alarmLogGroup(name, h.suffix))
			fixes = append(fixes, run)
		}
		firing = append(firing, line)
	}
	if len(firing) > 0 {
		r.rep.fail(check, strings.Join(slices.Compact(fixes), "; "), "%d of %d alarms in ALARM: %s", len(firing), len(mine), strings.Join(firing, "; "))
		return
	}
	r.rep.pass(check, "%s notify %s; none in ALARM", plural(len(mine), "alarm"), topic)
}
