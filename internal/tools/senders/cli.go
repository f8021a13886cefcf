package senders

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/logfan/logfan/internal/tools/sdkconfig"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/health"
	"github.com/logfan/logfan/shared/health/dynamohealth"
)

// Run is `logfan senders`: with -check it fails (exit 1) when a sender is silent.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, args, os.Getenv, stdout, stderr, nil)
}

// run is Run with the environment and the table's reader (nil: DynamoDB) injected.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, reader health.Reader) error {
	fs := flag.NewFlagSet("senders", flag.ContinueOnError)
	fs.SetOutput(stderr)
	table := fs.String("table", getenv(config.EnvHealthTable), "the sender-health table (default $"+config.EnvHealthTable+"; the recipient stack's sender-health table)")
	region := fs.String("region", "", "the table's region (default: the AWS CLI's)")
	mode := fs.String("mode", getenv(config.EnvSenderMode), "sender mode: accounts or organization (default $"+config.EnvSenderMode+", else accounts)")
	accounts := fs.String("accounts", getenv(config.EnvExpectedAccounts), "expected sender accounts, comma-separated (default $"+config.EnvExpectedAccounts+"; the stack's SenderAccounts)")
	accountsFile := fs.String("accounts-file", getenv(config.EnvExpectedAccountsFile), "a file of further expected accounts, comma- or newline-separated (default $"+config.EnvExpectedAccountsFile+"; a sharded stack's senderShards accounts)")
	regions := fs.String("regions", getenv(config.EnvExpectedRegions), "expected regions, comma-separated: the home region and destinationRegions (default $"+config.EnvExpectedRegions+", else the table's region)")
	heartbeat := fs.Int("heartbeat-minutes", envInt(getenv, config.EnvHeartbeatMinutes, config.DefaultHeartbeatMinutes), "the senders' heartbeat interval (senderHeartbeatMinutes)")
	silent := fs.Int("silent-after-minutes", envInt(getenv, config.EnvSilentAfterMinutes, config.DefaultSilentAfterMinutes), "no heartbeat for this long is silent (silentAfterMinutes)")
	forget := fs.Int("forget-after-days", envInt(getenv, config.EnvForgetSendersAfterDays, config.DefaultForgetSendersAfterDays), "organization mode: how long a sender stays expected after its last heartbeat (forgetSendersAfterDays)")
	logGroups := fs.Bool("log-groups", false, "list each sender's log groups")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	check := fs.Bool("check", false, "exit 1 when any expected sender is silent")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: logfan senders -table T [-accounts A,B] [-accounts-file F] [-regions R,S] [-mode accounts|organization] [-log-groups] [-json] [-check]")
		fmt.Fprintln(stderr, "\nOne row per expected or sending sender (account, region): its state (ok, late, silent, never seen,")
		fmt.Fprintln(stderr, "unexpected) as the watchdog computes it, last heartbeat, last event, events and bytes today and")
		fmt.Fprintln(stderr, "yesterday (UTC), and how many log groups sent today.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *table == "" {
		return fmt.Errorf("no table: pass -table or set %s (the recipient stack's sender-health table; the watchdog function has it in its environment)", config.EnvHealthTable)
	}
	if reader == nil {
		awsCfg, err := sdkconfig.Load(ctx, *region)
		if err != nil {
			return err
		}
		if *regions == "" {
			*regions = awsCfg.Region
		}
		reader = dynamohealth.New(dynamodb.NewFromConfig(awsCfg), *table)
	}
	settings, err := health.LoadSettings(func(k string) string {
		return map[string]string{
			config.EnvSenderMode: *mode, config.EnvExpectedAccounts: *accounts, config.EnvExpectedAccountsFile: *accountsFile, config.EnvExpectedRegions: *regions,
			config.EnvHeartbeatMinutes: strconv.Itoa(*heartbeat), config.EnvSilentAfterMinutes: strconv.Itoa(*silent),
			config.EnvForgetSendersAfterDays: strconv.Itoa(*forget),
		}[k]
	})
	if err != nil {
		return err
	}
	rep, err := List(ctx, Options{Reader: reader, Settings: settings, LogGroups: *logGroups, JSON: *asJSON, Out: stdout})
	if err != nil {
		return err
	}
	if *check && rep.Silent > 0 {
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

func envInt(getenv func(string) string, name string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(getenv(name))); err == nil {
		return n
	}
	return def
}
