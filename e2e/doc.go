// Package e2e holds Pregón's end-to-end crash and fault tests. They build the
// real pregon binary once, run it as subprocesses (api, worker or serve)
// against a real redis-server with AOF, an SMTP server and a fake Telegram
// Bot API in the test process, and drive it only through its HTTP API, as
// a coordinator would. Each test logs one line starting with FIGURES.
//
// The tests are skipped with -short.
package e2e
