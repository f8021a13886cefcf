package routes

import (
	"fmt"
	"regexp"
	"strings"
)

// regionShape is what an AWS region name looks like; a logs target's
// first setting of that shape is its region (checked as a region, so a
// typo gets a suggestion rather than becoming a group template).
var regionShape = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// ParseTarget reads a target written the way Target.Name writes it, the
// route-target syntax of the operator commands' flags: "s3", "s3:apps",
// "firehose", "firehose:siem", "logs", "logs:eu-west-1",
// "logs:eu-west-1:/security/{owner}/{logGroup}" and
// "logs:eu-west-1:/security/{owner}/{logGroup}:{logStream}". A logs
// target's first setting is its region when it reads as one, its group
// template otherwise (an empty field, "logs::/x", also leaves the region to
// the default). No setting can hold ':' (S3 prefixes, stream names, log
// group and stream names exclude it), so the fields are never ambiguous.
// The target is checked as a route table's targets are; SharedGroup, a
// permission rather than a destination, has no spelling here.
func ParseTarget(s string) (Target, error) {
	fields := strings.Split(strings.TrimSpace(s), ":")
	t := Target{Sink: fields[0]}
	rest := fields[1:]
	tooMany := func(what string) error {
		return fmt.Errorf("target %q: a %s target takes at most %s after %q", s, t.Sink, what, t.Sink+":")
	}
	switch t.Sink {
	case SinkS3:
		if len(rest) > 1 {
			return Target{}, tooMany("a key prefix")
		}
		if len(rest) == 1 {
			t.Prefix = strings.Trim(rest[0], "/")
		}
	case SinkFirehose:
		if len(rest) > 1 {
			return Target{}, tooMany("a stream name")
		}
		if len(rest) == 1 {
			t.Stream = rest[0]
		}
	case SinkLogs:
		if len(rest) > 0 && (rest[0] == "" || regionShape.MatchString(rest[0])) {
			t.Region, rest = rest[0], rest[1:]
		}
		if len(rest) > 2 {
			return Target{}, tooMany("a region, a group template and a stream template")
		}
		if len(rest) > 0 {
			t.GroupTemplate = rest[0]
		}
		if len(rest) > 1 {
			t.StreamTemplate = rest[1]
		}
	default:
		return Target{}, fmt.Errorf("target %q: unknown sink %q: want %s, %s:PREFIX, %s:STREAM or %s:REGION[:GROUP_TEMPLATE[:STREAM_TEMPLATE]]",
			s, t.Sink, SinkS3, SinkS3, SinkFirehose, SinkLogs)
	}
	if err := checkTarget(&t); err != nil {
		return Target{}, fmt.Errorf("target %q: %w", s, err)
	}
	return t, nil
}
