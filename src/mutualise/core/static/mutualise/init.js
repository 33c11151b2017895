// Loaded at the top of <body>: marks JavaScript as available before GOV.UK Frontend styles run.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
