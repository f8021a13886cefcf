package doctor

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/logfan/logfan/internal/cmd/onboard"
)

// TestOnboardHintRuns: the logfan onboard command a failed sender check
// suggests is one logfan onboard accepts (it once named a -destination
// flag onboard does not have, and no account, region or log groups).
func TestOnboardHintRuns(t *testing.T) {
	s := &sender{account: "222222222222", o: senderOptions{
		Destination: "arn:aws:logs:eu-west-1:999999999999:destination:logfan-destination", Config: aws.Config{Region: "eu-west-1"}}}
	for _, groups := range []string{"-log-group /aws/lambda/orders", "-account-policy"} {
		args := strings.Fields(s.onboard(groups))
		if args[0] != "logfan" || args[1] != "onboard" {
			t.Fatalf("hint %q", args)
		}
		var out, errb bytes.Buffer
		if err := onboard.Run(context.Background(), args[2:], &out, &errb); err != nil || !strings.Contains(out.String(), "## 2. Sender side") {
			t.Errorf("%q: %v\n%s", args, err, errb.String())
		}
	}
}
