package main

import "github.com/logfan/logfan/internal/cmd/quarantine"

func init() {
	register("quarantine", "list, show and delete what the consumers quarantined (undecodable records, refused events), with each reason", quarantine.Run)
}
