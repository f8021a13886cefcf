// Package healthreport prints a sender-health report (health.Evaluate's) as
// the table `logfan senders` shows and the demo ends with: one row per
// sender, its state, last heartbeat, last event and traffic, and a tally.
package healthreport

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/logfan/logfan/shared/health"
)

// Write prints rep as a table: one row per sender, its log groups (when
// the report has them) indented beneath.
func Write(w io.Writer, rep *health.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tREGION\tSTATE\tLAST HEARTBEAT\tLAST EVENT\tEVENTS TODAY\tBYTES TODAY\tEVENTS YESTERDAY\tBYTES YESTERDAY\tLOG GROUPS TODAY")
	for _, s := range rep.Senders {
		region := s.Region
		if region == "" {
			region = "?"
		}
		state := s.State
		if !s.Expected && s.State != health.StateUnexpected {
			state += " (region unknown)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%d\n", s.Account, region, state,
			when(rep.Now, s.LastHeartbeat), when(rep.Now, s.LastEvent), s.EventsToday, Bytes(s.BytesToday), s.EventsYesterday, Bytes(s.BytesYesterday), s.ActiveLogGroups)
		for _, g := range s.LogGroups {
			name := "  " + g.LogGroup
			if g.Silent {
				name += " (silent: sent every day of the last week, nothing today)"
			}
			fmt.Fprintf(tw, "%s\t\t\t\t%s\t%d\t%s\t%d\t%s\t\n", name, when(rep.Now, g.LastEvent), g.EventsToday, Bytes(g.BytesToday), g.EventsYesterday, Bytes(g.BytesYesterday))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d senders: %s\n", len(rep.Senders), Tally(rep))
	return err
}

// Tally is "2 ok, 1 silent": the rows per state, in the states' order.
func Tally(rep *health.Report) string {
	var parts []string
	for _, st := range []string{health.StateOK, health.StateLate, health.StateSilent, health.StateNeverSeen, health.StateUnexpected} {
		if n := rep.Count(st); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// when is a time with its age, or "-".
func when(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " (" + age(now.Sub(t)) + ")"
}

func age(d time.Duration) string {
	switch {
	case d < 0:
		return "ahead"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm ago", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}

// Bytes is n in B, KB, MB, GB or TB (powers of 1000).
func Bytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGT"[exp])
}
