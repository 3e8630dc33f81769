package guardian

// SetupCookie is the setup session's cookie.
const SetupCookie = setupCookie

// SetupFailsAll is how many wrong setup codes from everywhere stop every attempt.
const SetupFailsAll = setupFailsAll
