package health

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/logfan/logfan/shared/config"
)

// Settings are what the watchdog and `logfan senders` expect of the
// senders: the stack's sender mode, accounts and regions, and the
// heartbeat timing.
type Settings struct {
	// Mode is config.SenderModeAccounts (expected: Accounts x Regions) or
	// config.SenderModeOrganization (expected: every sender seen within
	// ForgetAfter, plus Accounts x Regions).
	Mode     string
	Accounts []string
	Regions  []string
	// HeartbeatInterval is the senders' heartbeat period; no heartbeat for
	// two of them makes a sender late.
	HeartbeatInterval time.Duration
	// SilentAfter without a heartbeat makes a sender silent.
	SilentAfter time.Duration
	// ForgetAfter is how long organization mode expects a sender after its last heartbeat.
	ForgetAfter time.Duration
}

// LoadSettings reads Settings from the watchdog's environment (the
// config.EnvExpected* and heartbeat variables) and reports every problem in
// one error.
func LoadSettings(getenv func(string) string) (Settings, error) {
	var errs []error
	s := Settings{Mode: strings.TrimSpace(getenv(config.EnvSenderMode))}
	if s.Mode == "" {
		s.Mode = config.SenderModeAccounts
	}
	if s.Mode != config.SenderModeAccounts && s.Mode != config.SenderModeOrganization {
		errs = append(errs, fmt.Errorf("%s=%q: want %q or %q", config.EnvSenderMode, s.Mode, config.SenderModeAccounts, config.SenderModeOrganization))
	}
	s.Accounts = list(getenv(config.EnvExpectedAccounts))
	if file := strings.TrimSpace(getenv(config.EnvExpectedAccountsFile)); file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", config.EnvExpectedAccountsFile, err))
		}
		// Shard 0's accounts (the environment) and the file's do not
		// overlap in the stack's context, but a deploy-time parameter can.
		seen := map[string]bool{}
		for _, a := range s.Accounts {
			seen[a] = true
		}
		for _, a := range list(strings.ReplaceAll(string(data), "\n", ",")) {
			if !seen[a] {
				seen[a] = true
				s.Accounts = append(s.Accounts, a)
			}
		}
	}
	for _, a := range s.Accounts {
		if !isAccount(a) {
			errs = append(errs, fmt.Errorf("%s: %q is not a 12-digit account ID", config.EnvExpectedAccounts, a))
		}
	}
	s.Regions = list(getenv(config.EnvExpectedRegions))
	for _, r := range s.Regions {
		if !isRegion(r) {
			errs = append(errs, fmt.Errorf("%s: %q is not a region name", config.EnvExpectedRegions, r))
		}
	}
	if len(s.Regions) == 0 {
		errs = append(errs, fmt.Errorf("%s is empty: the stack sets it to its home region and destinationRegions", config.EnvExpectedRegions))
	}
	whole := func(name string, def, lo, hi int) int {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number from %d to %d", name, v, lo, hi))
			return def
		}
		return n
	}
	s.HeartbeatInterval = time.Duration(whole(config.EnvHeartbeatMinutes, config.DefaultHeartbeatMinutes, 1, 1440)) * time.Minute
	s.SilentAfter = time.Duration(whole(config.EnvSilentAfterMinutes, config.DefaultSilentAfterMinutes, 1, 7*1440)) * time.Minute
	// A sender item lives SenderRetention after its last heartbeat: forgetting later is impossible.
	maxDays := int(SenderRetention / (24 * time.Hour))
	s.ForgetAfter = time.Duration(whole(config.EnvForgetSendersAfterDays, config.DefaultForgetSendersAfterDays, 1, maxDays)) * 24 * time.Hour
	if len(errs) > 0 {
		return Settings{}, fmt.Errorf("watchdog configuration: %w", errors.Join(errs...))
	}
	return s, nil
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isRegion(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
