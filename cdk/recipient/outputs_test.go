package recipient

import (
	"regexp"
	"testing"
)

// outputValue renders output name of a synthesized stack ("" if absent).
func outputValue(t *testing.T, s *synthesized, name string) string {
	t.Helper()
	o, ok := s.json["Outputs"].(map[string]any)[name]
	if !ok {
		return ""
	}
	return render(newEvaluator(s.json, nil).eval(t, o.(map[string]any)["Value"]))
}

func TestOperatorOutputs(t *testing.T) {
	// GIVEN the default stack
	s := defaultStack(t)
	// THEN it outputs every part the operator commands look up, by the
	// names internal/ops/deployment reads (literal here: renaming one breaks
	// deployed stacks' doctor, redrive and quarantine)
	want := map[string]string{
		"QuarantinePrefix":     "quarantine",
		"QuarantineBucketName": "<QuarantineBucket[0-9A-F]{8}>",
		"DataBucketName":       "<DataBucket[0-9A-F]{8}>",
		"FirehoseStreamName":   "<FirehoseStream>",
		"LedgerTableName":      "<LedgerTable[0-9A-F]{8}>",
		"HealthTableName":      "<HealthTable[0-9A-F]{8}>",
		"StreamName":           "<Stream[0-9A-F]{8}>",
		"S3FunctionName":       "<S3Function>",
		"FirehoseFunctionName": "<FirehoseFunction>",
		"LogsFunctionName":     "<LogsFunction>",
		"WatchdogFunctionName": "<WatchdogFunction>",
		"DestinationRoleArn":   "<DestinationRole[0-9A-F]{8}.Arn>",
		"DestinationRegions":   "",
	}
	for name, v := range want {
		if got := outputValue(t, s, name); !regexp.MustCompile("^" + v + "$").MatchString(got) {
			t.Errorf("output %s = %q, want %q", name, got, v)
		}
	}
	// AND the Firehose stream's output is its fixed name
	if got := props(s.json["Resources"].(map[string]any)["FirehoseStream"].(map[string]any))["DeliveryStreamName"]; newEvaluator(s.json, nil).eval(t, got) != "LogfanRecipient-firehose" {
		t.Errorf("FirehoseStream's name %v", got)
	}
	// AND a stack without the S3 and Firehose sinks outputs no data bucket, stream or their functions
	l := logsOnlyStack(t)
	for _, name := range []string{"DataBucketName", "FirehoseStreamName", "S3FunctionName", "FirehoseFunctionName"} {
		if got := outputValue(t, l, name); got != "" {
			t.Errorf("logs-only: output %s = %q", name, got)
		}
	}
	if got := outputValue(t, l, "LogsFunctionName"); got != "<LogsFunction>" {
		t.Errorf("logs-only: LogsFunctionName %q", got)
	}
	// AND with regional destinations the regions are listed, and each regional stack outputs its destination's role
	r := threeRegions(t)
	if got := outputValue(t, r, "DestinationRegions"); got != testRegions {
		t.Errorf("DestinationRegions %q, want %q", got, testRegions)
	}
	for region, rs := range r.regional {
		if got := outputValue(t, rs, "DestinationRoleArn"); !regexp.MustCompile(`^<DestinationRole[0-9A-F]{8}\.Arn>$`).MatchString(got) {
			t.Errorf("%s: DestinationRoleArn %q", region, got)
		}
	}
}
