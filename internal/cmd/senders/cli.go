package senders

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/logfan/logfan/internal/cli/sdkconfig"
	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/ops/deployment"
	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/health/dynamohealth"
)

// Run is `logfan senders`: with -check it fails (exit 1) when a sender is silent.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, args, os.Getenv, stdout, stderr, nil)
}

// sendersUsage is what `logfan senders -h` prints before the flags.
const sendersUsage = `usage: logfan senders [-stack NAME] [-region R] [-table T] [-accounts A,B] [-accounts-file F] [-regions R,S] [-mode accounts|organization] [-log-groups] [-json] [-check]

One row per expected or sending sender (account, region): its state (ok, late, silent, never seen,
unexpected) as the watchdog computes it, last heartbeat, last event, events and bytes today and
yesterday (UTC), and how many log groups sent today. The table and the expectations are the
deployed stack's (its output and its watchdog's environment) unless flags or variables say otherwise.
`

// run is Run with the environment and the table's reader (nil: DynamoDB) injected.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, reader health.Reader) error {
	f, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	if reader == nil {
		if reader, err = f.dynamoReader(ctx, getenv, stderr); err != nil {
			return err
		}
	} else if *f.table == "" {
		return fmt.Errorf("no table: pass -table, set %s, or name the deployed recipient stack with -stack and -region (its HealthTableName output)", config.EnvHealthTable)
	}
	settings, err := f.settings()
	if err != nil {
		return err
	}
	rep, err := List(ctx, Options{Reader: reader, Settings: settings, LogGroups: *f.logGroups, JSON: *f.asJSON, Out: stdout})
	if err != nil {
		return err
	}
	if *f.check && rep.Silent > 0 {
		var names []string
		for _, s := range rep.Senders {
			if s.Expected && s.State == health.StateSilent {
				names = append(names, s.Name())
			}
		}
		return fmt.Errorf("%d silent senders: %s", rep.Silent, strings.Join(names, ", "))
	}
	return nil
}

// flags are `logfan senders`' flags, their defaults from the environment;
// the deployed stack may complete them (dynamoReader).
type flags struct {
	fs                                           *flag.FlagSet
	table, mode, accounts, accountsFile, regions *string
	heartbeat, silent, forget                    *int
	logGroups, asJSON, check                     *bool
	dep                                          *deployment.Flags
}

// parseFlags parses the flags; a bad one is a usage error.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*flags, error) {
	fs := usage.NewFlagSet("senders", stderr, sendersUsage)
	f := &flags{
		fs:           fs,
		table:        fs.String("table", getenv(config.EnvHealthTable), "the sender-health table (default $"+config.EnvHealthTable+", else the stack's HealthTableName)"),
		mode:         fs.String("mode", getenv(config.EnvSenderMode), "sender mode: accounts or organization (default $"+config.EnvSenderMode+", else accounts)"),
		accounts:     fs.String("accounts", getenv(config.EnvExpectedAccounts), "expected sender accounts, comma-separated (default $"+config.EnvExpectedAccounts+"; the stack's SenderAccounts)"),
		accountsFile: fs.String("accounts-file", getenv(config.EnvExpectedAccountsFile), "a file of further expected accounts, comma- or newline-separated (default $"+config.EnvExpectedAccountsFile+"; a sharded stack's senderShards accounts)"),
		regions:      fs.String("regions", getenv(config.EnvExpectedRegions), "expected regions, comma-separated: the home region and destinationRegions (default $"+config.EnvExpectedRegions+", else the table's region)"),
		heartbeat:    fs.Int("heartbeat-minutes", envInt(getenv, config.EnvHeartbeatMinutes, config.DefaultHeartbeatMinutes), "the senders' heartbeat interval (senderHeartbeatMinutes)"),
		silent:       fs.Int("silent-after-minutes", envInt(getenv, config.EnvSilentAfterMinutes, config.DefaultSilentAfterMinutes), "no heartbeat for this long is silent (silentAfterMinutes)"),
		forget:       fs.Int("forget-after-days", envInt(getenv, config.EnvForgetSendersAfterDays, config.DefaultForgetSendersAfterDays), "organization mode: how long a sender stays expected after its last heartbeat (forgetSendersAfterDays)"),
		logGroups:    fs.Bool("log-groups", false, "list each sender's log groups"),
		asJSON:       fs.Bool("json", false, "print JSON instead of a table"),
		check:        fs.Bool("check", false, "exit 1 when any expected sender is silent"),
	}
	f.dep = deployment.AddFlags(fs)
	if err := usage.Parse(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usage.Errorf("unexpected arguments %q", fs.Args())
	}
	return f, nil
}

// dynamoReader reads the health table from DynamoDB: the table -table (or
// the environment) names, else the deployed stack's, whose watchdog's
// expectations also fill in what neither a flag nor a variable gives.
func (f *flags) dynamoReader(ctx context.Context, getenv func(string) string, stderr io.Writer) (health.Reader, error) {
	var awsCfg aws.Config
	if *f.table == "" || f.dep.StackGiven() {
		d, cfg, note, err := f.dep.Load(ctx)
		if err != nil {
			return nil, err
		}
		if note != "" {
			fmt.Fprintln(stderr, "logfan senders: "+note)
		}
		awsCfg = cfg
		if d != nil {
			if err := fromStack(ctx, f.fs, d, getenv, f.table, f.accounts); err != nil {
				return nil, err
			}
		}
	} else {
		cfg, err := sdkconfig.Load(ctx, f.dep.Region)
		if err != nil {
			return nil, err
		}
		awsCfg = cfg
	}
	if *f.table == "" {
		return nil, fmt.Errorf("no table: pass -table, set %s, or name the deployed recipient stack with -stack and -region (its HealthTableName output)", config.EnvHealthTable)
	}
	if *f.regions == "" {
		*f.regions = awsCfg.Region
	}
	return dynamohealth.New(dynamodb.NewFromConfig(awsCfg), *f.table), nil
}

// settings are the watchdog's settings the flags give.
func (f *flags) settings() (health.Settings, error) {
	return health.LoadSettings(func(k string) string {
		return map[string]string{
			config.EnvSenderMode: *f.mode, config.EnvExpectedAccounts: *f.accounts, config.EnvExpectedAccountsFile: *f.accountsFile, config.EnvExpectedRegions: *f.regions,
			config.EnvHeartbeatMinutes: strconv.Itoa(*f.heartbeat), config.EnvSilentAfterMinutes: strconv.Itoa(*f.silent),
			config.EnvForgetSendersAfterDays: strconv.Itoa(*f.forget),
		}[k]
	})
}

// fromStack fills the settings neither a flag nor a variable gave from the
// deployed stack: its table, and its watchdog's expectations (the accounts
// of a sharded stack's other shards come from the watchdog's layer).
func fromStack(ctx context.Context, fs *flag.FlagSet, d *deployment.Deployment, getenv func(string) string, table, accounts *string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["table"] && *table == "" {
		*table = d.Output(naming.OutputHealthTable)
	}
	wd := d.Functions[deployment.Watchdog]
	if wd == nil {
		return nil
	}
	for name, env := range map[string]string{
		"mode": config.EnvSenderMode, "accounts": config.EnvExpectedAccounts, "regions": config.EnvExpectedRegions,
		"heartbeat-minutes": config.EnvHeartbeatMinutes, "silent-after-minutes": config.EnvSilentAfterMinutes, "forget-after-days": config.EnvForgetSendersAfterDays,
	} {
		if set[name] || getenv(env) != "" || wd.Env[env] == "" {
			continue
		}
		_ = fs.Set(name, wd.Env[env]) // the watchdog's own values, which LoadSettings checks below
	}
	file := wd.Env[config.EnvExpectedAccountsFile]
	if set["accounts"] || set["accounts-file"] || getenv(config.EnvExpectedAccountsFile) != "" || file == "" {
		return nil
	}
	text, err := d.LayerFile(ctx, wd, file)
	if err != nil {
		return fmt.Errorf("the watchdog's expected accounts (%s=%s): %w; pass -accounts or -accounts-file", config.EnvExpectedAccountsFile, file, err)
	}
	more := strings.Join(strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' }), ",")
	if *accounts != "" && more != "" {
		*accounts += ","
	}
	*accounts += more
	return nil
}

func envInt(getenv func(string) string, name string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(getenv(name))); err == nil {
		return n
	}
	return def
}
