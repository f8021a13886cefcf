// Command cdk synthesizes logfan's stacks. cdk.json runs it with
// `go run ./cdk`; configuration comes from CDK context (cdk.json, -c key=value).
//
// Without sender context it builds the recipient stack (LogfanRecipient) and,
// for each region of -c destinationRegions=..., a regional destination stack
// (LogfanDestination-<region>) feeding that stack's stream.
// With -c senderDestinationArn=... it builds only the sender stack
// (LogfanSender): the two deploy to different accounts, and a sender account
// needs neither the recipient's settings nor the functions' build output.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/cdk/cdkcontext"
	"github.com/logfan/logfan/cdk/recipient"
	"github.com/logfan/logfan/cdk/sender"
)

func main() {
	defer jsii.Close()
	// Synth reports validation errors (such as an oversized access policy)
	// by panicking; print the message, not a Go stack trace.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(os.Stderr, r)
			os.Exit(1)
		}
	}()
	app := awscdk.NewApp(nil)
	lookup := func(key string) any { return app.Node().TryGetContext(jsii.String(key)) }
	all, _ := app.Node().GetAllContext(nil).(map[string]any)
	if err := checkContext(all); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := build(app, lookup); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	app.Synth(nil)
}

// knownKeys are the context keys the app reads: the recipient stack's and
// the sender stack's, each package's list drawn from its own parser.
func knownKeys() []string {
	return append(recipient.ContextKeys(), sender.ContextKeys()...)
}

// checkContext refuses a context key the app does not know (a mistyped
// -c sharCount=2 would otherwise be ignored, the default used), naming the
// closest known key.
func checkContext(all map[string]any) error {
	if err := cdkcontext.CheckKeys(all, knownKeys()); err != nil {
		return fmt.Errorf("logfan context: %w", err)
	}
	return nil
}

func build(app awscdk.App, lookup func(string) any) error {
	ss, err := sender.ParseSettings(lookup)
	if err != nil {
		return err
	}
	if ss != nil {
		sender.AddToApp(app, *ss)
		return nil
	}
	settings, err := recipient.ParseSettings(lookup)
	if err == nil {
		err = settings.CheckAssets()
	}
	if err != nil {
		return err
	}
	recipient.AddToApp(app, settings)
	return nil
}
