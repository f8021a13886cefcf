// Command cdk synthesizes logfan's recipient stack. cdk.json runs it with
// `go run ./cdk`; configuration comes from CDK context (cdk.json, -c key=value).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/cdk/recipient"
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
	settings, err := recipient.ParseSettings(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err == nil {
		err = settings.CheckAssets()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	recipient.AddToApp(app, settings)
	app.Synth(nil)
}
