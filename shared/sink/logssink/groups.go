package logssink

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// call runs a control-plane call under the retry policy, counting retries.
// The Logs-specific answers (not found, already exists) are not retryable,
// so the caller sees them at once.
func (s *Sink) call(ctx context.Context, d *delivery, fn func(context.Context) error) error {
	n, err := s.retry.Do(ctx, fn)
	d.retries.Add(int64(n))
	return err
}

// groupState is what the sink knows about one target group. Its mutex
// makes creating the group and setting its retention happen once per Sink,
// however many streams of the group need it at the same time.
type groupState struct {
	mu       sync.Mutex
	known    bool // exists (created, found existing, or its retention was set)
	retained bool // this Sink set the configured retention since it last learned the group exists
}

// group returns the state of a group, creating it (unknown) if needed.
func (s *Sink) group(name string) *groupState {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[name]
	if g == nil {
		if len(s.groups) >= DefaultKnownGroups {
			// Forgetting a group costs one PutRetentionPolicy on its next
			// use (and at most one CreateLogGroup answered
			// ResourceAlreadyExists); a group in use (locked) is kept.
			for k, v := range s.groups {
				if v.mu.TryLock() {
					delete(s.groups, k)
					v.mu.Unlock()
				}
			}
		}
		g = &groupState{}
		s.groups[name] = g
	}
	return g
}

// ensureRetention makes the group carry the configured retention before
// this Sink first writes to it: once per group per Sink (so once per
// process), it calls PutRetentionPolicy, creating the group first if that
// says the group is missing. Once done it costs one map lookup and one
// uncontended lock per stream and Deliver.
//
// Setting the retention on first use, rather than only right after this
// Sink created the group, is what makes retention converge: a group whose
// CreateLogGroup answer was lost (the retry sees ResourceAlreadyExists), or
// whose PutRetentionPolicy kept failing until the invocation ended (the
// retry runs in a fresh process that never knew it owed the call), gets it
// on the next first use. PutRetentionPolicy is idempotent and needs no
// permission beyond the ones the sink already has; it costs one call per
// group per cold start, no more than a DescribeLogGroups check would, and
// unlike such a check it cannot mistake a group this sink left without
// retention for one the operator chose to keep forever. So the configured
// retention (LOGFAN_LOGS_RETENTION_DAYS) is the one source of truth for every
// group under the sink's template, which starts with a literal prefix of
// its own: a retention set there by hand is reset on the next cold start.
// A failure leaves the stream's events unsent (FailedAt), so no delivery
// is reported while the retention it owes is not set.
func (s *Sink) ensureRetention(ctx context.Context, d *delivery, name string) error {
	if s.retention <= 0 {
		return nil
	}
	g := s.group(name)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.retained {
		return nil
	}
	err := s.retain(ctx, d, name, g)
	if err == nil || classify(ctx, err) != kindNotFound {
		return err
	}
	// The first use of a new group: create it, then set its retention.
	if err := s.createGroup(ctx, d, name, g); err != nil {
		return err
	}
	return s.retain(ctx, d, name, g)
}

// ensure creates t's group (with the configured retention) and stream;
// either existing already counts as success.
func (s *Sink) ensure(ctx context.Context, d *delivery, t Target) error {
	if err := s.ensureGroup(ctx, d, t.Group, false); err != nil {
		return err
	}
	err := s.createStream(ctx, d, t)
	if err == nil || classify(ctx, err) != kindNotFound {
		return err
	}
	// The group went missing (deleted since the sink saw it): create it again.
	if err := s.ensureGroup(ctx, d, t.Group, true); err != nil {
		return err
	}
	return s.createStream(ctx, d, t)
}

// ensureGroup creates the group unless known to exist (recreate: known to
// be gone) and sets its retention unless this Sink already did.
func (s *Sink) ensureGroup(ctx context.Context, d *delivery, name string, recreate bool) error {
	g := s.group(name)
	g.mu.Lock()
	defer g.mu.Unlock()
	if recreate {
		g.known, g.retained = false, false
	}
	if !g.known {
		if err := s.createGroup(ctx, d, name, g); err != nil {
			return err
		}
	}
	return s.retain(ctx, d, name, g)
}

// createGroup creates the group; g.mu is held. A group that already exists
// counts as created: whoever made it, retain runs next.
func (s *Sink) createGroup(ctx context.Context, d *delivery, name string, g *groupState) error {
	err := s.call(ctx, d, func(ctx context.Context) error {
		_, err := s.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &name})
		return err
	})
	if err != nil && classify(ctx, err) != kindExists {
		return fmt.Errorf("create log group %s: %w", name, err)
	}
	g.known = true
	return nil
}

// retain sets the configured retention unless this Sink already did since
// it learned the group exists; g.mu is held. A failure leaves it unset (and
// the stream's events unsent), to be tried again on the group's next use.
func (s *Sink) retain(ctx context.Context, d *delivery, name string, g *groupState) error {
	if s.retention <= 0 || g.retained {
		return nil
	}
	days := s.retention
	err := s.call(ctx, d, func(ctx context.Context) error {
		_, err := s.client.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &name, RetentionInDays: &days})
		return err
	})
	if err != nil {
		return fmt.Errorf("set %d-day retention on log group %s: %w", days, name, err)
	}
	g.known, g.retained = true, true
	return nil
}

func (s *Sink) createStream(ctx context.Context, d *delivery, t Target) error {
	err := s.call(ctx, d, func(ctx context.Context) error {
		_, err := s.client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &t.Group, LogStreamName: &t.Stream})
		return err
	})
	if err == nil || classify(ctx, err) == kindExists {
		return nil
	}
	return fmt.Errorf("create log stream %s: %w", t, err)
}
