// Package render presents a sync.Plan and an apply result: as text for a
// terminal, as a versioned JSON document (also the saved-plan file), and as
// markdown for pull-request comments. Renderers present; they never decide:
// every verdict (guards, counts, reasons) comes from the plan itself.
//
// Names, ids, roles and messages come from the API and may hold anything:
// the text and markdown renderers show them through Safe, which escapes
// every character that is not printable (terminal escape sequences, line
// breaks, bidirectional overrides), and every JSON document and line (the
// plan, the apply result, the --audit-log line, the report) goes through one
// encoder, encodeJSON, which writes those characters as \u escapes.
// Commands print API text through Safe and SubjectLabel too. escaping_test.go
// holds a row per output; a new output without one fails the tests.
//
// Colour is decided once by the caller and passed in; nothing here reads
// the environment or global state.
package render
