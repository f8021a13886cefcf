package main

import "github.com/logfan/logfan/internal/cmd/onboard"

func init() {
	register("onboard", "print what to run on the recipient and sender sides to onboard a sender account", onboard.Run)
}
