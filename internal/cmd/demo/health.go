package demo

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/logfan/logfan/internal/devkit/localenv"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/health/dynamohealth"
)

// heartbeatMark is in every heartbeat message (EventBridge's Scheduled
// Event): none may land in a sink.
const heartbeatMark = `"detail-type":"Scheduled Event"`

// countHeartbeats counts the heartbeat messages among what landed.
func countHeartbeats(landed []string) int {
	n := 0
	for _, m := range landed {
		if strings.Contains(m, heartbeatMark) {
			n++
		}
	}
	return n
}

// watchdog runs the stack's watchdog logic once over the health table,
// expecting the demo's senders in the demo's region, with the stack's
// default heartbeat settings.
func (o *Options) watchdog(ctx context.Context, c *localenv.Clients, senders []Sender) (*health.Report, error) {
	s := health.Settings{
		Mode: config.SenderModeAccounts, Regions: []string{localenv.Region},
		HeartbeatInterval: time.Duration(config.DefaultHeartbeatMinutes) * time.Minute,
		SilentAfter:       time.Duration(config.DefaultSilentAfterMinutes) * time.Minute,
		ForgetAfter:       time.Duration(config.DefaultForgetSendersAfterDays) * 24 * time.Hour,
	}
	s.Regions = nil
	for _, snd := range senders {
		if !slices.Contains(s.Accounts, snd.Account) {
			s.Accounts = append(s.Accounts, snd.Account)
		}
		if !slices.Contains(s.Regions, snd.region()) {
			s.Regions = append(s.Regions, snd.region())
		}
	}
	out := io.Discard
	if o.Log != nil {
		out = o.Log
	}
	w := &health.Watchdog{
		Reader: dynamohealth.New(c.DynamoDB, o.Names.HealthTable), Settings: s,
		Logger: slog.New(slog.NewJSONHandler(out, nil)).With("function", o.Names.FunctionPrefix+"WatchdogFunction"), Metrics: out,
	}
	return w.Run(ctx)
}
