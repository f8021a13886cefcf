package main

import "github.com/logfan/logfan/internal/cmd/invoke"

func init() {
	register("invoke", "run a function's real bootstrap under the Lambda Runtime Interface Emulator, as sam local invoke", invoke.Run)
}
