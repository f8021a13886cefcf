package logssink

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// call runs a control-plane call, retrying what is retryable until ctx ends.
func (s *Sink) call(ctx context.Context, d *delivery, fn func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			d.retries.Add(1)
		}
		err := s.retry.Attempt(ctx, fn)
		if err == nil || classify(ctx, err) != kindRetry {
			return err
		}
		if berr := s.retry.Wait(ctx, attempt); berr != nil {
			return fmt.Errorf("%w (gave up: %w)", err, berr)
		}
	}
}

// groupState is what the sink knows about one target group. Its mutex
// makes creating the group and setting its retention happen once, however
// many streams of the group find it missing at the same time.
type groupState struct {
	mu               sync.Mutex
	known            bool // exists (created, or found existing)
	retentionPending bool // created by this sink, retention not set yet
}

// group returns the state of a group, creating it (unknown) if needed.
func (s *Sink) group(name string) *groupState {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[name]
	if g == nil {
		if len(s.groups) >= DefaultKnownGroups {
			// Forgetting a known group costs at most one CreateLogGroup
			// (ResourceAlreadyExists) later; a pending retention is kept.
			for k, v := range s.groups {
				if v.mu.TryLock() {
					if !v.retentionPending {
						delete(s.groups, k)
					}
					v.mu.Unlock()
				}
			}
		}
		g = &groupState{}
		s.groups[name] = g
	}
	return g
}

// ensure creates t's group (with retention, if the sink created it) and
// stream; either existing already counts as success.
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
// be gone) and sets the retention of a group this sink created.
func (s *Sink) ensureGroup(ctx context.Context, d *delivery, name string, recreate bool) error {
	g := s.group(name)
	g.mu.Lock()
	defer g.mu.Unlock()
	if recreate {
		g.known = false
	}
	if !g.known {
		err := s.call(ctx, d, func(ctx context.Context) error {
			_, err := s.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &name})
			return err
		})
		switch {
		case err == nil:
			g.known, g.retentionPending = true, s.retention > 0
		case classify(ctx, err) == kindExists:
			g.known = true
		default:
			return fmt.Errorf("create log group %s: %w", name, err)
		}
	}
	return s.retain(ctx, d, name, g)
}

// applyRetention sets the retention of a group this sink created earlier
// if a previous attempt failed; it costs one map lookup otherwise.
func (s *Sink) applyRetention(ctx context.Context, d *delivery, name string) error {
	s.mu.Lock()
	g := s.groups[name]
	s.mu.Unlock()
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return s.retain(ctx, d, name, g)
}

// retain sets a pending retention; g.mu is held. A failure keeps it pending
// (and the stream's events unsent), so while this sink lives no event is
// written to a group it created before the group has its retention.
func (s *Sink) retain(ctx context.Context, d *delivery, name string, g *groupState) error {
	if !g.retentionPending {
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
	g.retentionPending = false
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
