package readback

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// LogsAPI is the part of the CloudWatch Logs client LogEvents calls;
// *cloudwatchlogs.Client implements it.
type LogsAPI interface {
	DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	DescribeLogStreams(ctx context.Context, in *cloudwatchlogs.DescribeLogStreamsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogStreamsOutput, error)
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

var _ LogsAPI = (*cloudwatchlogs.Client)(nil)

// LogEvent is one stored log event, as LogEvents reads it back.
type LogEvent struct {
	Group     string
	Stream    string
	Timestamp int64
	Message   string
}

// LogGroup is a log group as LogGroups reads it back.
type LogGroup struct {
	Name string
	// RetentionInDays is the group's retention, 0 when events never expire.
	RetentionInDays int32
}

// LogGroups lists the log groups whose names start with prefix, with their
// retention, following DescribeLogGroups pagination.
func LogGroups(ctx context.Context, client LogsAPI, prefix string) ([]LogGroup, error) {
	var out []LogGroup
	in := &cloudwatchlogs.DescribeLogGroupsInput{}
	if prefix != "" {
		in.LogGroupNamePrefix = &prefix
	}
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe log groups with prefix %q: %w", prefix, err)
		}
		for _, g := range page.LogGroups {
			if g.LogGroupName == nil {
				continue
			}
			grp := LogGroup{Name: *g.LogGroupName}
			if g.RetentionInDays != nil {
				grp.RetentionInDays = *g.RetentionInDays
			}
			out = append(out, grp)
		}
	}
	return out, nil
}

// LogEvents reads every event of every stream of the log groups whose names
// start with groupPrefix (all groups if empty), oldest first within each
// stream. It pages GetLogEvents forward from the head until the forward
// token repeats, which is how the API says a stream is exhausted. It is
// meant for tests and the demo, not for large groups.
func LogEvents(ctx context.Context, client LogsAPI, groupPrefix string) ([]LogEvent, error) {
	groups, err := LogGroups(ctx, client, groupPrefix)
	if err != nil {
		return nil, err
	}
	var out []LogEvent
	for _, g := range groups {
		group := g.Name
		sp := cloudwatchlogs.NewDescribeLogStreamsPaginator(client, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: &group})
		for sp.HasMorePages() {
			page, err := sp.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe log streams of %s: %w", group, err)
			}
			for _, s := range page.LogStreams {
				if s.LogStreamName == nil {
					continue
				}
				evs, err := readStream(ctx, client, group, *s.LogStreamName)
				if err != nil {
					return nil, err
				}
				out = append(out, evs...)
			}
		}
	}
	return out, nil
}

func readStream(ctx context.Context, client LogsAPI, group, stream string) ([]LogEvent, error) {
	var out []LogEvent
	head := true
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: &group, LogStreamName: &stream, StartFromHead: &head}
	for {
		page, err := client.GetLogEvents(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("get log events of %s:%s: %w", group, stream, err)
		}
		for _, e := range page.Events {
			ev := LogEvent{Group: group, Stream: stream}
			if e.Timestamp != nil {
				ev.Timestamp = *e.Timestamp
			}
			if e.Message != nil {
				ev.Message = *e.Message
			}
			out = append(out, ev)
		}
		if page.NextForwardToken == nil || (in.NextToken != nil && *page.NextForwardToken == *in.NextToken) {
			return out, nil
		}
		in.NextToken = page.NextForwardToken
	}
}
