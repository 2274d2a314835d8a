"""One function per use case: takes a Session, the caller and the input; checks rights and rules; changes rows;
records the audit entry, the events and the mails in the same transaction."""
