"""Portal pages for money: publisher payouts and statements, postbacks, staff payout runs."""
