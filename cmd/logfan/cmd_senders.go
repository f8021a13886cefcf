package main

import "github.com/logfan/logfan/internal/cmd/senders"

func init() {
	register("senders", "which sender accounts and regions are sending, late or silent, and what each sent today and yesterday", senders.Run)
}
