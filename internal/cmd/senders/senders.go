// Package senders is `logfan senders`: every expected or sending sender's
// state, last heartbeat, last event and traffic (today and yesterday) from
// the sender-health table, evaluated exactly as the watchdog evaluates it
// (health.Evaluate). It is also the per-sender metering a platform team
// charges back by.
package senders

import (
	"context"
	"io"
	"time"

	"github.com/logfan/logfan/internal/cli/cliflag"

	"github.com/logfan/logfan/internal/ops/healthreport"
	"github.com/logfan/logfan/shared/health"
)

// Options configure one listing.
type Options struct {
	// Reader reads the table (dynamohealth.Store).
	Reader health.Reader
	// Settings are the expectations.
	Settings health.Settings
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// LogGroups lists each sender's log groups under it.
	LogGroups bool
	// JSON prints the report as JSON instead of a table.
	JSON bool
	// Out receives the listing.
	Out io.Writer
}

// List reads the table, evaluates and prints; it returns the report.
func List(ctx context.Context, o Options) (*health.Report, error) {
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	ss, days, err := health.Read(ctx, o.Reader, now, nil)
	if err != nil {
		return nil, err
	}
	rep := health.Evaluate(now, o.Settings, ss, days)
	if !o.LogGroups {
		for i := range rep.Senders {
			rep.Senders[i].LogGroups = nil
		}
	}
	if o.JSON {
		return rep, cliflag.WriteJSON(o.Out, rep)
	}
	return rep, healthreport.Write(o.Out, rep)
}
