// Package layout holds the import rule of the package layout that depguard
// (the rest of them, in .golangci.yml) cannot express: a command's tests
// import no other command. See DEVELOPERS.md, "Layout".
package layout
