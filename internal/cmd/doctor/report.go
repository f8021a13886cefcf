package doctor

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/logfan/logfan/internal/cli/cliflag"
)

// Status is a check's outcome.
type Status string

// Statuses, from best to worst; Skip says a check could not run and why.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Check is one check's outcome: what was looked at, what was seen, and for
// anything but PASS the command that fixes it.
type Check struct {
	Check    string `json:"check"`
	Status   Status `json:"status"`
	Evidence string `json:"evidence"`
	Fix      string `json:"fix"`
}

// Report is the checks of one run, in the order they ran.
type Report struct {
	Checks []Check
}

func (r *Report) add(c Check) {
	if c.Status != Pass && c.Status != Skip {
		if cause := explain(c.Evidence); cause != "" && !strings.Contains(c.Evidence, cause) {
			c.Evidence += " — " + cause
		}
	}
	r.Checks = append(r.Checks, c)
}

func (r *Report) pass(check, format string, args ...any) {
	r.add(Check{Check: check, Status: Pass, Evidence: fmt.Sprintf(format, args...)})
}

func (r *Report) skip(check, format string, args ...any) {
	r.add(Check{Check: check, Status: Skip, Evidence: fmt.Sprintf(format, args...)})
}

func (r *Report) warn(check, fix, format string, args ...any) {
	r.add(Check{Check: check, Status: Warn, Evidence: fmt.Sprintf(format, args...), Fix: fix})
}

func (r *Report) fail(check, fix, format string, args ...any) {
	r.add(Check{Check: check, Status: Fail, Evidence: fmt.Sprintf(format, args...), Fix: fix})
}

// Count counts the checks of status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Find returns the checks named name.
func (r *Report) Find(name string) []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Check == name {
			out = append(out, c)
		}
	}
	return out
}

// Write prints the report: one line per check, its fix under it, and a
// summary; or, with asJSON, the checks as a JSON array.
func (r *Report) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		checks := r.Checks
		if checks == nil {
			checks = []Check{}
		}
		return cliflag.WriteJSON(w, checks)
	}
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Check))
	}
	for _, c := range r.Checks {
		if _, err := fmt.Fprintf(w, "%-4s  %-*s  %s\n", c.Status, width, c.Check, c.Evidence); err != nil {
			return err
		}
		if c.Fix != "" {
			if _, err := fmt.Fprintf(w, "      %-*s  fix: %s\n", width, "", c.Fix); err != nil {
				return err
			}
		}
	}
	_, err := fmt.Fprintf(w, "doctor: %d checks: %d pass, %d warn, %d fail, %d skipped\n",
		len(r.Checks), r.Count(Pass), r.Count(Warn), r.Count(Fail), r.Count(Skip))
	return err
}

// knownError is a message CloudWatch Logs (or a service behind it) gives
// for a broken cross-account setup, and its usual cause.
type knownError struct {
	re    *regexp.Regexp
	cause string
}

// knownErrors are the well-known failures of cross-account log sharing:
// each with its own opaque message, each costing days when met unnamed.
var knownErrors = []knownError{
	{regexp.MustCompile(`is not authorized to perform: logs:PutSubscriptionFilter on resource: \S*:destination:`),
		"cause: the sender account is missing from the destination's access policy, or the sender's own identity lacks logs:PutSubscriptionFilter (`logfan doctor` in the recipient account checks the first, `logfan doctor sender` in the sender account the second)"},
	{regexp.MustCompile(`Could not deliver test message to specified destination`),
		"cause: the role CloudWatch Logs assumes cannot write to the stream yet (its policy is not in effect: try again in a minute), or lacks kms:GenerateDataKey on the stream's customer key"},
	{regexp.MustCompile(`Role ARN is required when creating subscription filter against destination with Organization access policy`),
		"cause: the destination admits an organization, and the sender passed no --role-arn (a role in the sender account that logs.amazonaws.com may assume)"},
	{regexp.MustCompile(`destinationArn for vendor logs cannot be used with roleArn`),
		"cause: the destination admits a list of accounts, and the sender passed a --role-arn: drop it"},
	{regexp.MustCompile(`AccessDenied|not authorized to perform`),
		"cause: an AccessDenied, which CloudWatch Logs never retries: its deliveries stop silently until the permission is back"},
	{regexp.MustCompile(`ResourceNotFound|does not exist|NotFoundException`),
		"cause: a missing resource, which CloudWatch Logs never retries: its deliveries stop silently until it exists again"},
	{regexp.MustCompile(`Throttl|ProvisionedThroughputExceeded|Rate exceeded`),
		"cause: throttling, which CloudWatch Logs retries for 24 hours and then drops"},
}

// explain names the cause of the first well-known message in text ("" if none).
func explain(text string) string {
	for _, k := range knownErrors {
		if k.re.MatchString(text) {
			return k.cause
		}
	}
	return ""
}
