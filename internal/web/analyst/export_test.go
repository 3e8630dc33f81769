package analyst

// ReportBurst is how many anonymous reports one address may send at once.
const ReportBurst = reportBurst
