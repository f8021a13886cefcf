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
	if err := build(app, lookup); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	app.Synth(nil)
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
