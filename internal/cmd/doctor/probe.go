package doctor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/logfan/logfan/shared/health"
)

// probe waits for a heartbeat of account newer than since in the
// sender-health table: the end of a round trip from a sender's heartbeat
// log group through its subscription, the destination, the stream and the
// consumer that writes sender health.
type probe struct {
	reader  health.Reader
	account string
	// since is when the probe started (a heartbeat written before it does not count).
	since time.Time
	// timeout bounds the wait; every is the pause between reads.
	timeout, every time.Duration
	// now is the clock (time.Now in the CLI).
	now func() time.Time
}

// wait returns the newer heartbeat's region and event time, and when it was seen.
func (p *probe) wait(ctx context.Context) (region string, written, seen time.Time, err error) {
	baseline := map[string]time.Time{}
	ss, err := p.reader.Senders(ctx)
	if err != nil {
		return "", time.Time{}, time.Time{}, err
	}
	for _, s := range ss {
		if s.Account == p.account {
			baseline[s.Region] = s.LastHeartbeat
		}
	}
	deadline := p.since.Add(p.timeout)
	for {
		for _, s := range ss {
			if s.Account != p.account {
				continue
			}
			// Newer than what was there when the probe started, and not
			// written before it: a heartbeat of this round.
			if s.LastHeartbeat.After(baseline[s.Region]) && !s.LastHeartbeat.Before(p.since.Truncate(time.Millisecond)) {
				return s.Region, s.LastHeartbeat, p.now(), nil
			}
		}
		if !p.now().Before(deadline) {
			return "", time.Time{}, time.Time{}, fmt.Errorf("no heartbeat of %s reached the sender-health table within %s", p.account, p.timeout)
		}
		select {
		case <-ctx.Done():
			return "", time.Time{}, time.Time{}, ctx.Err()
		case <-time.After(min(p.every, time.Until(deadline)+time.Millisecond)):
		}
		if ss, err = p.reader.Senders(ctx); err != nil {
			return "", time.Time{}, time.Time{}, err
		}
	}
}

// report adds the probe's outcome as the check "probe".
func (p *probe) report(ctx context.Context, rep *Report, fix string) {
	region, written, seen, err := p.wait(ctx)
	if err != nil {
		rep.fail("probe", fix, "%v", err)
		return
	}
	if region == "" {
		region = "region unknown"
	}
	rep.pass("probe", "a heartbeat of %s (%s) written %s reached the recipient's table, seen %s after the probe started: round trip at most %s",
		p.account, region, written.UTC().Format(time.RFC3339Nano), seen.Sub(p.since).Round(time.Second), seen.Sub(written).Round(time.Second))
}

// probeMessage is the uniquely marked heartbeat the sender side writes.
func probeMessage(id, account, region string, at time.Time) string {
	return fmt.Sprintf(`{"detail-type":"logfan doctor probe","source":"logfan.doctor","account":%q,"region":%q,"time":%q,"id":%q}`,
		account, region, at.UTC().Format(time.RFC3339), strings.ReplaceAll(id, `"`, ""))
}
