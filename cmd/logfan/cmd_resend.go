package main

import "github.com/logfan/logfan/internal/cmd/resend"

func init() {
	register("resend", "send archived events (S3) again to any route target: by owner, log group and time, idempotent and resumable", resend.Run)
}
