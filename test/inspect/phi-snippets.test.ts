/**
 * Realistic snippets written apart from both corpora: whether each needs the
 * PHI-level protection under the built-in settings (PHI, or a personal
 * identifier found with high confidence), as a table.
 */
import { describe, expect, it } from 'vitest';
import { inspectText } from '../../src/inspect/verdict.js';
import { baseProtection } from '../../src/policy/evaluate.js';
import { builtInSettings } from '../../src/policy/profile.js';

const cases: [boolean, string][] = [
  [true, 'Hi Dr. Chen,\nJust a heads up that Marcus Bell is coming in Thursday for his chemo infusion; please have the port supplies ready.'],
  [true, 'Subject: Ramirez, Elena 03/14/1952 - A1C results\n\nHer A1C came back at 9.1.'],
  [true, 'Can you send the discharge summary for Tomás Herrera? He left AMA yesterday.'],
  [true, 'Referral: Abigail Foster\nReason: suspected appendicitis\nPlease call her mother at (312) 555-0147.'],
  [true, 'Patient email: j.ortiz77@gmail.com — asked about her mammogram follow-up.'],
  [true, 'Member ID: XJH482913057\nPlan: Blue Shield PPO\nPlease verify coverage for an MRI.'],
  [true, 'The patient in room 4, Lucas Moreau, has a penicillin allergy.'],
  [true, 'Bitte Befund für Frau Schneider, geb. 12.03.1958, an Dr. Weber senden. Diagnose: Vorhofflimmern.'],
  [true, 'Paciente: Carmen Ruiz Delgado\nFecha de nacimiento: 1960-07-22\nDiagnóstico: insuficiencia renal crónica'],
  [true, 'John Whitaker (DOB 7/4/1949) needs a prior auth for his knee replacement, CPT 27447.'],
  [true, 'Claim for Anita Desai, rendering NPI 1234567893, ICD-10 M17.11, denied for missing auth.'],
  [true, 'Acct #: 4471-22981\nGuarantor: Samuel Ortiz\nBalance for ER visit: $1,240.00'],
  [true, 'Please update SSN for employee Laura Kim: 512-44-8830.'],
  [true, 'Card on file for the patient refund: 4716 7574 9118 6252 exp 09/27'],
  [true, 'Yesterday Wei Zhang was admitted with pneumonia.'],
  [true, 'Please schedule Tom Price for his colonoscopy next week.'],
  [false, 'Please schedule Jane Smith for the CPR refresher. Separately, the diabetes fair moved to May.'],
  [false, 'Coverage for Kevin Park on Friday is confirmed.\n\nReminder: the oncology unit holiday party is on the 12th.'],
  [true, 'We saw Patient Olivia Brandt today; her migraine is better on the new dose.'],
  [false, 'Reminder: the pharmacy will be closed Monday. Refill requests can be sent through the portal. Questions? Call 617-724-5000.'],
  [false, 'We are hiring! Oncology RN, night shift, Riverside Cancer Center. Apply by Friday. Contact Maria Lopez, HR, at 555-201-3344.'],
  [false, 'Q3 quality report: 412 patients with E11.9 (type 2 diabetes) had an A1C below 8; readmissions for heart failure fell 12%.'],
  [false, 'Flu shots are available for all staff in the cafeteria on Tuesday from 7 to 3. Bring your badge.'],
  [false, 'New book club pick: "The Emperor of All Maladies: A Biography of Cancer" (ISBN 978-1-4391-0795-9) by Siddhartha Mukherjee.'],
  [false, 'Congratulations to Dr. Amelia Grant on 25 years of service in cardiology!'],
  [false, 'Thank you,\nKaren Mills\nDiabetes Education Program\nLakeside Health\n300 Lake St, Suite 200\nTel 555-210-4400'],
  [false, 'The EHR upgrade is scheduled for Saturday 10pm. Epic will be read-only; print the downtime census beforehand.'],
  [false, 'Lunch and learn: managing hypertension in primary care, presented by Jordan Price, PharmD.'],
  [false, 'Your invoice INV-20931 for 12 boxes of nitrile gloves is attached. Net 30.'],
  [false, 'Dear Valued Patient, our new urgent care clinic at 45 Pine Street now offers X-ray and COVID-19 testing 7 days a week.'],
  [false, 'Grand Rounds: Sepsis bundles in 2026 — Dr. Oyelaran, Thursday noon, Auditorium B.'],
  [false, 'Clínica San Rafael, Calle Mayor 12, Madrid. Nuevo servicio de diálisis los sábados.'],
  [false, 'Parking lot C will be repaved next week; please use the garage on Elm Street.'],
  [false, 'Attached is the updated on-call schedule for the ICU and the stroke team.'],
  [false, 'Hi team,\nThe new Pyxis machines arrive Tuesday. Nursing staff on 4 West should complete the training module before using them for insulin or opioid pulls.\nThanks,\nDerek'],
  [false, 'Dear Colleagues,\nPlease join us in welcoming Dr. Samuel Okoye, who joins our cardiology group from Boston. He specializes in heart failure and arrhythmia.'],
  [false, 'SAVE THE DATE: Annual Cancer Survivors Picnic, June 14, Riverside Park. RSVP to events@riverside.org.'],
  [false, 'Vendor update: Medline backorder on 18G IV catheters; use 20G until further notice. Contact purchasing at 555-340-2200.'],
  [false, 'Stellenangebot: Gesundheits- und Krankenpfleger (m/w/d) für unsere Dialyse. Bewerbung an Frau Petra Lang, Personalabteilung.'],
  [false, 'Boletín: Campaña de vacunación contra la gripe en el Centro de Salud Norte, del 1 al 15 de octubre.'],
  [false, 'Rappel : formation obligatoire sur la prévention des infections nosocomiales jeudi à 14h, salle B.'],
  [false, 'Monthly stats: 1,204 ED visits, 212 admissions, average LOS 4.1 days; top diagnoses J18.9 pneumonia (48), I50.9 heart failure (37).'],
  [false, 'Reading list for residents:\n1. Harrison\'s Principles of Internal Medicine, 21st ed., ISBN 978-1-264-26850-4\n2. The Washington Manual of Medical Therapeutics, ISBN 1975190629'],
  [false, 'Reference ranges:\nGlucose, fasting 70-99 mg/dL\nHbA1c < 5.7 %\nTSH 0.4-4.0 mIU/L\nCall the lab at (617) 555-0190 with questions.'],
  [false, 'MSH|^~\\&|LAB|HOSP|EHR|HOSP|20261201||ACK^R01|99|P|2.5\rMSA|AA|12345'],
  [false, 'Join Maria Lopez, RN, CDCES for our free Diabetes Prevention class every Tuesday at 6pm at 100 Main Street.'],
  [false, 'Jane Doe has been promoted to Director of Oncology Nursing. Please congratulate her!'],
  [false, 'Please see the attached flyer for the heart health fair. For questions call Susan Price at 555-201-8899.'],
  [true, 'Hi Susan, Mr. Delgado called back — his biopsy results are ready and he would like a call at 555-201-7788.'],
  [true, 'Per phone call: Grace Kim (DOB 2/9/1988) is 12 weeks pregnant and asked to move her prenatal visit.'],
  [true, 'Attached: Herrera_Tomas_labs.pdf\nTomás Herrera — potassium 6.1, repeat BMP tomorrow.'],
  [true, 'Ms. Nguyen\'s daughter asked whether her mother can have visitors after the stroke.'],
  [true, 'Home visit: 14 Elm Street, Springfield (Maria Alvarez) — wound care twice weekly.'],
  [true, 'Maria Alvarez lives at 14 Elm Street and needs her oxygen tanks refilled.'],
  [true, 'Deliver the walker to Maria Alvarez at 221 Birch Lane, Apt 4, after her hip replacement.'],
  [true, 'Home address: 14 Elm Street, Springfield IL 62704. Needs home oxygen set up Monday.'],
  [true, 'Carmen Ruiz (Calle de Alcalá 45, 3º B, Madrid) continúa la quimioterapia.'],
  [true, 'GARCIA, MARIA\n1420 N Lakeshore Dr, Apt 5B\nChicago IL 60611\nDx: CHF, on furosemide'],
  [true, 'Anne-Marie Dubois\n12, rue des Lilas\n69003 Lyon\nSuivi de chimiothérapie'],
  [true, 'Visit list:\n1) John Carter — 77 Oak Ave, Dayton — insulin teaching\n2) Ruth Meyers — 5 Pine Ct, Kettering — PICC care'],
  [true, 'Patient: HANNAH MÜLLER, 14 Elm Street, COPD exacerbation'],
  [true, 'José María García López, Calle Mayor 12, Madrid: diálisis martes y jueves.'],
  [false, 'Our new location: 14 Elm Street, Springfield. The diabetes clinic moves there in May.'],
  [false, 'Pick up the donated wheelchairs at 221 Birch Lane from Maria Alvarez, our volunteer coordinator.'],
  [true, 'Beneficiary: Mohammed O\'Brien\nDiagnosis: osteoarthritis'],
  [true, 'Pt Jane Q. Doe seen today for follow up of hypertension.'],
  [true, 'Name des Patienten: Klaus Weber\nDiagnose: Diabetes mellitus Typ 2'],
  [true, 'Re: Okafor, Chidi - knee pain, MRI ordered'],
  [true, 'Hi team, John Smith called about his metformin refill.'],
  [true, 'Dear Maria Alvarez,\n\nYour colonoscopy is scheduled for Monday at 8 am. Nothing to eat after midnight.'],
  [true, 'Mme DUPONT Claire, 12 rue de la Paix, 75002 Paris - diabète de type 2'],
  [true, 'Last name: Hernandez; First name: Ruth; Reason: asthma follow-up'],
  [false, 'Dear Maria Alvarez,\n\nThank you for your help with the diabetes fair. See you next year!'],
  [false, 'Lab price list: Lipid panel (80061) $25; Hemoglobin A1c (83036) $18; Comprehensive metabolic panel (80053) $30.'],
  [false, 'Top diagnoses this quarter: type 2 diabetes (E11.9) 412 patients, essential hypertension (I10) 388 patients.'],
  [false, 'Coding tip: bill 99214-25 when a procedure is done at the same visit. Questions? Call the billing office at 555-210-4400.'],
  [false, 'Provider directory: Anjali Tanaka, MD, Endocrinology, 1234567893, (520) 297-9816'],
  [false, 'Diabetes Walk registration (60614) opens Monday; Last name and First name fields are required.'],
  [true, 'Please call Grace Liu about her mammogram results; she prefers mornings.'],
  [false, 'Please call Grace Liu about her retirement party.\n\nSeparately, the mammogram van is here Friday.'],
  [true, "Can we move Rosa Morales's next iron infusion to Thursday?"],
  [false, "Rosa Morales's retirement party is Friday at the cancer center."],
  // a patient's name and home address in one sentence, the health information in the next: the organisation words of another sentence do not make it the office's address
  [true, 'Please send the wheelchair to Eleanor Whitfield at 42 Birch Lane, Springfield, IL 62704. She was discharged after hip replacement surgery.'],
  [true, 'The walker goes to Hannah Brooks, 9 Cedar Court, Albany NY 12203. Her physical therapy starts Monday at the rehab clinic.'],
  // an address in one sentence, a staff name in the next: no name with an address
  [false, 'Send invoices to Accounts Payable, 900 Commerce Blvd, Austin TX 78701. Questions? Ask Tom Hughes in billing about the oncology contract.'],
  [false, 'Our new location: Riverside Family Medicine, 42 Birch Lane, Springfield, IL 62704. The clinic offers flu shots and diabetes education.'],
  [false, 'Join Sarah Mitchell at 500 Lake Shore Drive, Chicago for our annual fundraiser. Proceeds support breast cancer research.'],
  // radiation as treatment names health information; radiation safety does not
  [true, 'Pickup for Ms. Abena Mensah, 3 Harbor View, Apt 12, Salem MA 01970 — transport to her radiation appointment.'],
  [false, 'The radiation treatment planning system is down for an upgrade on Saturday; contact Mark Olsen in IT with questions.'],
  [false, 'Annual radiation safety training for Paul Dumont and the imaging team is due by Friday.'],
  // a name with a home address is a person whatever word introduced them; a contact word counts for the organisation only as a
  // label, an organisation word in lower case in a sentence names a service, not whose address it is
  [true, 'Phone note: caller Maria Gonzalez, 1423 Elm Street, Springfield IL 62704, reports worsening asthma and needs an inhaler refill.'],
  [true, 'Home visit scheduled for Thomas Becker, 9 Linden Ave, Madison WI 53703. Wound care for diabetic foot ulcer.'],
  [true, 'Send the hospice enrollment packet to Frank Miller at 18 Chestnut St, Albany NY 12207.'],
  [false, 'We are hiring a registered nurse for our oncology unit at 300 Lake Shore Drive, Chicago IL. Send resumes to Tom Becker.'],
  [false, 'Our new clinic opens at 250 Oak Avenue, Austin TX 78701 next month. Flu shots and diabetes education classes will be offered.'],
  [false, 'Phone 555-201-3344 | Fax 555-201-3345 | Northside Pediatrics, 77 River Road, Albany NY 12207 | Asthma and allergy care'],
  [false, 'Mark your calendars: Dr. Anna Weiss will speak on heart failure at the library, 55 Center Street, on May 3.'],
  // a plural and a medicine name the health information
  [true, 'Spoke with Priya Raman at 77 Harbor Road, Portland ME 04101 — she is still having migraines after starting topiramate.'],
  // a birth date as record exports and letters write it
  [true, 'Patient DOB: 12-Mar-1948. Seen for COPD.'],
  [true, 'Date of birth: 12th of March, 1948 — referred for a sleep study.'],
  // a form's "Social:", "Pt ID", a hospital account, an op note
  [true, 'Social: 536 22 1234 — new patient intake'],
  [true, 'Pt ID 00482913 — please send her echo report.'],
  [true, 'Hospital account number: 7781-2233-09 (Maria Silva) — ER visit 3/2.'],
  [true, 'Can you fax the op note for Bernard Wu? Surgery was yesterday.'],
  // a customer's account with a vendor or a utility is no person's bank account
  [false, 'Invoice 20931 — account number 88231947 — 12 boxes of nitrile gloves, net 30.'],
  [false, 'Your Verizon account number 882319471 is past due. Pay online.'],
  [true, 'Direct deposit change for payroll: account number 882319471, effective next cycle.'],
  // labs named in the subject line with the patient; an age in commas after a name; an honorific in lower case mid-sentence
  [true, 'FW: labs for Anthony Russo\n\nHis creatinine is up again, nephrology wants to see him.'],
  [true, 'Sophie Laurent, 45, presented to the ED with abdominal pain; CT showed appendicitis.'],
  [true, 'El señor Juan Pérez necesita renovar su receta de insulina.'],
  [false, 'Anthony Russo from facilities will fix the MRI suite door lock tomorrow.'],
  [false, 'Subject: Re: budget meeting\n\nJennifer Walsh will present the radiology equipment budget on Friday.'],
  // notes in four languages, with and without a cue word the rules know; colleagues and events beside health words
  [true, 'Herr Klaus Weber wurde gestern mit Lungenentzündung aufgenommen.'],
  [true, 'La paciente María López tiene cita para su quimioterapia el lunes.'],
  [true, 'Le patient Jean Dupont a été hospitalisé pour une insuffisance cardiaque.'],
  [true, 'Rückruf bitte an Frau Yilmaz wegen ihrer Blutwerte.'],
  [true, 'Reminder for Jacob Miller: fasting labs before his physical on Monday.'],
  [true, 'Emily Chen — anxiety, started escitalopram 10 mg, follow up in 4 weeks.'],
  [true, 'Daniel Kim was diagnosed with type 1 diabetes last month; school nurse needs an insulin plan.'],
  [true, 'Per the family, grandmother Rosa Jimenez has dementia and lives with her son at 5 Oak Lane.'],
  [true, 'Hi team, Mark Ellis in bed 12 spiked a fever overnight, blood cultures pending.'],
  [true, 'Can you squeeze in Ethan Brooks today? His asthma is flaring.'],
  [false, 'Herr Klaus Weber von der IT-Abteilung installiert morgen das neue Röntgen-Archiv.'],
  [false, 'María López, coordinadora de eventos, organiza la carrera contra el cáncer.'],
  [false, 'Please congratulate Maria Lopez on her promotion to oncology nurse manager!'],
  [false, 'Tom Becker and his team completed the MRI upgrade over the weekend.'],
  [false, "Karen White will lead her department's oncology budget review on Monday."],
  [false, 'Send the signed W-9 to our vendor contact Paul Novak, 500 Commerce Blvd, Dallas TX 75201.'],
  // someone to call on at home ("stop by", "swing by": whom to visit, not who wrote something); injuries and the people they happened to
  [true, 'Can the home health nurse stop by Eleanor Briggs at 42 Maple Court, Springfield tomorrow? Her pressure ulcer dressing needs changing.'],
  [true, 'Could you swing by Mr. Harold Whitman at 17 Birch Lane this afternoon? His wound dressing needs a change.'],
  [false, 'Please stop by Karen Fields in HR to sign your benefits forms.'],
  [true, 'Injured worker: Luis Romero, lumbar strain, off work until 12/15. Claim WC-2026-4471.'],
  [true, 'Employee Luis Romero sprained his ankle on 11/02 and was seen at urgent care.'],
  [false, 'Safety update: we had 14 lumbar strain claims last year. Lift with your legs! Questions: call Dana Fox at 555-201-3344.'],
  [false, 'Our urgent care is open 8am-8pm daily, including weekends. Walk-ins welcome. Call 555-201-4400.'],
  // a bank account labelled by the bare word, with the bank's words near; a customer account with a vendor is not one
  [true, 'New direct deposit for Angela Ruiz: routing 021000021, account 4456789012. Effective next pay period.'],
  [false, 'Your account 4456789 with Office Depot has a balance of $240.'],
  // a handoff's "Last, First" with an age and sex after it; a service line's figures in millions are not ages
  [true, 'Rm 12 - Gomez, Patricia 67F s/p lap chole POD1, pain controlled, ambulating.'],
  [true, 'Bed 3: Nguyen, Bao, 45 M, CAP on ceftriaxone, afebrile.'],
  [true, 'Reyes, Ana 8 y/o seen for asthma exacerbation, albuterol given.'],
  [false, 'Q3 revenue by service line:\nOncology, Infusion 12M (up 8%)\nCardiology, Imaging 9M\nNo patient data.'],
  // record and member numbers behind the labels billing systems print
  [true, 'Visit ID: V00482913 - missing charge for IV infusion.'],
  [true, 'Medicaid ID 12345678A, dental cleaning approved.'],
  // surnames that are also places or things ("Park", "Banks", "Lane"): names after an honorific, a label or a patient cue; places without one
  [true, 'Patient: Linda Park\nDx: breast cancer, on tamoxifen'],
  [true, 'Mrs. Linda Park called about her mammogram results.'],
  [true, 'Patient Harold Banks was admitted with pneumonia.'],
  [true, 'Sarah Lane was admitted overnight with chest pain.'],
  [false, 'Lincoln Park has a new diabetes clinic opening in May.'],
  [false, 'Ship to: Lincoln Park Pharmacy, insulin pens x 20'],
  [false, 'The Memorial Day schedule: dialysis runs as usual.'],
  // a subject that is only a name, and the text after it about their health; the records of someone's care asked for
  [true, 'Re: Maria Santos\n\nHer biopsy results came back benign. Please let her know.'],
  [false, 'Re: Maria Santos\n\nThanks for the update on the parking permits, I will pass it along.'],
  [false, 'Re: Jane Smith\n\nHer oncology team presentation is Monday.'],
  [true, 'Santos, Maria 03/02/1971\n\nPlease fax the last two progress notes and the med list.'],
  // a "Last, First" name after a patient cue; a lab's critical-value call-back
  [true, 'Lab called 10:42 with critical K+ 6.9 on pt Ruiz, Daniel. Dr. Patel notified, repeat BMP ordered.'],
  [true, 'Spoke with Mendes, Ana about her potassium results.'],
  [false, 'Thanks, John. See you at the BMP review.'],
  // an everyday cue, a surname that is also a place, and the name's own care right after it
  [true, 'Please schedule Linda Park for a mammogram next week.'],
  [false, 'Please schedule Lincoln Park for a cleanup next week.'],
  [false, 'We will book West Lake for the diabetes fair.'],
  // a city before its state and ZIP code is no person's name beside an address
  [false, 'Send donations to 2200 Orchard Hill Rd, Cedar Bluff, WI 54730. Every gift funds a chemotherapy chair.'],
  // "Account #" is a customer's in an invoice or an order, a patient's in a bill
  [false, 'Invoice #: INV-118734\nCustomer Account #: MBP-00392\nPO #: 45521\nShip To: Meadowbrook Pediatrics'],
  [false, 'Order #: SO-7718204\nAccount #: 300218\nTracking #: 1Z4F82W70391827746\nSyringe 3 mL luer-lock, 3 BX'],
  [true, 'Account #: 00392817\nStatement date: 11/02/2026\nAmount due: $240.00'],
  // a reminder to the named reader: their appointment, and its procedure named after it
  [true, 'Hello Maria Elena Soto,\nThis is a reminder of your upcoming appointment:\n  Procedure:  COLONOSCOPY\n  Date: Wednesday, May 21'],
  [false, 'Dear Maria Alvarez,\nThank you for your visit to our diabetes fair last week!'],
  // "She has …" in a sentence after the name's
  [true, "Can one of you stop by and see Dolores Whitfield this week? She lives on Larkspur Lane in Fairborn. She has advanced Parkinson's disease and has fallen twice."],
  [false, 'Kevin Park will cover Friday. He is on the oncology unit this month.'],
  [false, 'Our new charge nurse is Jane Smith. She has ICU experience from Mercy.'],
  // a subject that is only a name, and the body starting with their health
  [true, 'Benjamin Adeyemi\n\nLabs back - VL undetectable, CD4 612. Continue Biktarvy.'],
  [false, 'Benjamin Adeyemi\n\nOncology team lunch moved to Friday.'],
  // "path results"; "his social" before nine digits
  [true, 'Pt María González, DOB 1961-07-14 - path results (L breast bx)'],
  [true, 'fyi pt in bay 3 finally gave us his social 418559023 - can u rerun eligibility'],
  // "order #SO-…" and "PO #" are commerce's marks too: the account is the customer's
  [false, 'Our account # is 600418, ship to Suite 200 receiving dock.\n> line items 3 and 4 on your PO (order #SO-0098812) are backordered'],
  // short notes: handoffs, pages, boards, transport, lower-case typing
  [true, 'Rm 14 Hernandez, Luis 72M s/p CABG POD2, afib overnight, on amio gtt.'],
  [true, 'Mr. Abernathy going home tmrw w/ home O2 2L NC.'],
  [true, '02:14 5W: pt Dorothy Fenwick rm 512 BP 82/50, HR 118, T 38.9. New lactate pending.'],
  [true, 'pls transport Gloria Reyes to IR at 1400, NPO, on heparin gtt.'],
  [true, 'Bed\tPt\tAge\tCC\nT3\tMOORE, Patrick\t61\tsyncope\n12\tALI, Fatima\t27\tabd pain, +hCG'],
  [true, 'hey can u check on mrs delacroix in 3b, she\'s c/o nausea after the morphine'],
  [true, 're: mr okafor\n\nyes, CT head neg. ok to restart his apixaban tonight.'],
  [false, 'mr and mrs Smith sent a thank-you card to the oncology unit'],
  [false, 'Huddle at 0700 re: sepsis bundle compliance. BP cuffs restocked in 4W.'],
  // dangerous-looking organisation mail: a heading that runs into a health term, a facility's bays, a therapist's credential before a phone
  [false, '38% of open gaps for Controlling High Blood Pressure could have been closed with a CPT II code.'],
  [false, 'Mrs. Ellison, a retired schoolteacher, has supported Riverbend for decades. Her gift will fund 42 private infusion bays.'],
  [false, 'Living Well with Parkinson\'s\n  2nd Tuesday, 1:00-2:30 PM\n  Facilitator: Marcus Hale, PT, DPT · 614-555-0172'],
  [false, 'Observations: both CLABSIs involved PICCs.\n\nMegan Alvarado, MPH, CIC\nManager, Infection Prevention\nRiverbend Health | 1400 Riverbend Pkwy, Columbus, OH 43299 | 614-555-0163'],
  // a numbered board with a "#" column; a patient's own note about their health, signed
  [true, '#\tPatient\tMRN\tDiagnosis\n1\tAlvarez, Rosa M.\t10293847\tPancreatic adenocarcinoma'],
  [true, 'This card came last week:\n  "Dear Dr. Raman, after my triple bypass I walked 2 miles yesterday. My ejection fraction is up to 50%.\n   - Gerald Okafor, Westerville"\n\nThanks,\nBev Santos'],
  [false, 'I will be out Friday for my team\'s diabetes fair booth.\n\nThanks,\nTom Price'],
  // a headerless export: "Last, First" in quotes, then an ISO birth date; a department's number in a visitor guide
  [true, '"Brannigan, Ignatius",1961-09-14,58248981,"J45.40 Moderate persistent asthma"'],
  [false, 'ICU: two visitors at a time.\nHelpful numbers\nPatient Experience .......... (218) 555-0111\nBilling questions ........... (218) 555-0115'],
  // "His …" and "She has a …" in the name's next sentences, across one paragraph break; a street is no name
  [true, 'Walter Hughes scored 17 out of 30 on the MoCA this week,\ncompared with 22 last March. The MRI showed no stroke. His thyroid levels were normal.'],
  [true, "Could you add Edith Carraway to next week's home visits? She lives in the\nblue farmhouse on Quarry Hill Road.\n\nShe has a pressure ulcer on her sacrum that is not healing."],
  [false, 'Cedar Ridge Family Medicine | Patient Communications\nCedar Ridge Family Medicine | 4120 SW Alder Creek Rd, Suite 200, Beaverton, OR 97005\nRSV vaccine during pregnancy (weeks 32-36).'],
  // staff and department phone lines; headings and departments; test patients and placeholders; "M." before one word is an initial
  [false, 'Contacts: Carla Weiss, CRCST, CHL, SPD Manager, ext. 4-6650, cell (614) 555-0152. Positive BI, possible infection risk.'],
  [false, 'New-patient scheduling (614) 555-0178 for echocardiograms and stress tests.'],
  [false, 'Digital Insulin Adjustment with Lifestyle Coaching for Uncontrolled Type 2\nDiabetes: adults aged 40-75 with type 2 diabetes.'],
  [false, 'Screenshots use our synthetic patient ZZTEST, ADULT (MRN TST0000412) with metformin 500 mg BID.'],
  [false, 'Form example: DOB 01/01/1900, admitted for pneumonia.'],
  [false, '6130,Electrophysiology,M. Varga,1210000,1188400,"Ablation catheter rebate received"'],
  [true, 'M. Jean Dupont, né le 04/03/1958, hospitalisé pour une pneumonie.'],
  // a quoted or forwarded message's author, named in its From or "wrote:" line, about their own health
  [true, 'Please call her.\n\n---------- Forwarded message ---------\nFrom: Sandra Whitfield <swhit@inboxly.example>\nDate: Sat, Jul 20, 2024\n\nburning when I pee since thursday, I think its another UTI like in March.'],
  [true, 'Dr. Okafor will call you.\n\nOn Tue, Oct 15, 2024 at 8:12 AM Leonard Fitch <lfitch@mailbox.example> wrote:\n> I saw my A1c came back at 8.9 on the portal.'],
  [false, '---------- Forwarded message ---------\nFrom: Devon Achebe <devon.achebe@inboxly.example>\n\nDear Hiring Team,\nI care about diabetes prevention and have led walking groups.'],
  [false, 'From: Dr. Priya Raman <praman@clinic.example>\n\nI have moved my diabetes clinic to Thursdays.'],
  // the name's first word starting a later sentence, with a verb of having and their own health
  [true, 'Please keep our second-shift lead Dwayne Greer in your thoughts. Dwayne had a heart attack while working on 6 East.'],
  [false, 'Please welcome Dwayne Greer to EVS. Dwayne has a background in oncology nursing.'],
  [true, 'To everyone at Cedar Valley,\nSix weeks ago I had my left knee replaced and I want to thank the whole crew.\nHarold Menendez\nMillbrook'],  // a patient's own note signed after a sign-off; a health word typed wrong after "my"; the first person after the term, typed in lower case
  [true, "Dr. Okoro,\n\nI'm almost out of my lamotrigine 150 mg and my Seroquel. Can you send refills?\n\nThank you,\nCarla Jimenez"],
  [true, 'See below.\n\nOn Mon, Nov 4, 2024 at 7:48 AM Denise Albright <denise.albright@webmail.example> wrote:\n> Hello,\n> my migranes have been getting worse since the new pill.'],
  [false, 'Sorry for my spelling, I typed this on the bus.\n\nThank you,\nCarla Jimenez\n\nPS the diabetes fair flyer is attached.'],
  [true, 'Forwarding per Dr. Hale.\n\nFrom: Thomas Reyes <treyes@mailbox.example>\nSent: Tuesday, May 14, 2024\n\nthe muscle relaxer (cyclobenzaprine?) makes me way too sleepy so ive been skipping it'],
  // a greeting with a name that is also a place's; a short letter's "your" further down; a dental visit; a statement of an emergency visit
  [true, 'Hello Jenna Park,\n\nYour appointment is confirmed:\n\n  Visit: Level II Ultrasound - Fetal Anatomy Survey (20 weeks)'],
  [false, 'Hello Jenna Park,\n\nYour badge for the Lincoln Park parking garage is ready at the security desk.'],
  [true, 'Hi Marcus Delgado,\n\nThis is a reminder of your appointment with Dr. Anita Varga on Thursday.\n\nVisit type: Crown preparation, tooth #30\n\nOur records show you take amoxicillin before dental work because of your artificial heart valve.'],
  // a newsletter's bulletin heading, a fund's name and its costs are no one's health
  [false, 'Benefits Bulletin: Open Enrollment, EAP, Wellbeing Days & Flu Shots'],
  [false, 'Proceeds benefit the Ellison Center and the Riverbend Patient Assistance Fund, which helped 1,318 families with transportation, lodging and medication costs.'],  // services provided to a named person; a name typed in lower case before an age and sex (not a temperature); a part of the body after "my"
  [true, 'Our records show an unpaid balance of $2,317.00 for Emergency Department services provided to Kevin Lindqvist on 06/02/2024.'],
  [true, 'hey - have a pt for you. dorothy kimura, 88F, rm 3114. metastatic pancreatic ca w liver mets, DNR/DNI signed this am.'],
  [false, 'HVAC: exam room 4 is still hitting 81 F in the afternoons. Our vaccine refrigerator is in the adjoining room.'],
  [true, 'Thanks, see below.\n\nOn Tue, May 21, 2024 at 6:02 AM Rick Dombrowski <rdombrowski71@mailbox.example> wrote:\n> my leave starts 6/3. my knee is shot, i can barely do the stairs at work anymore.'],
  [false, 'Thanks, see below.\n\nOn Tue, May 21, 2024 at 6:02 AM Rick Dombrowski <rdombrowski71@mailbox.example> wrote:\n> can we move the knee-high sock order to Friday? the oncology unit asked too.'],
  // an author whose surname is a place's too; a community centre's name in Vietnamese with its street address
  [true, 'Hi Steven,\n\nSee below.\n\nOn Feb 8, 2024, at 10:31 PM, Steven Park <spark.design@mailbox.example> wrote:\n> Got a notification that my labs came back. It says Hemoglobin A1c 8.2 H.'],
  [false, 'Hội chợ sức khỏe miễn phí tại Trung Tâm Cộng Đồng, 14200 Magnolia St, Westminster, CA 92683: đo huyết áp và cholesterol miễn phí.'],  // a job applicant's quoted letter: where she worked, not her health; a contract's signatories; a unit presenting; a supplier's order
  [false, 'Hi Shanice,\n\nThank you for applying!\n\nOn Mon, Aug 19, 2024 at 9:05 AM Shanice Williams <shanice.williams.ma@mailbox.example> wrote:\n> I have 4 years of experience in family practice and urgent care and I am a CCMA.'],
  [true, 'Thanks.\n\nOn Mon, Aug 19, 2024 at 9:05 AM Shanice Williams <shanice.w@mailbox.example> wrote:\n> I was at urgent care last night and I have strep throat, so I cannot come in.'],
  [false, 'return or destroy PHI at termination.\nWILLOW HOSPICE, INC.          MERCY VALLEY MEDICAL CENTER\nBy: ______________          By: ______________\nName: Gail Whitcomb, CEO        Name: Robert Anselm, President'],
  [true, 'Employee:        Kevin Abernathy, RN\nKevin\'s annual TB screening (QuantiFERON-TB Gold Plus) was reported POSITIVE; latent TB treatment planned.'],
  [false, 'Topic: Caring for the bariatric surgical patient; Presenter: 5 East Ortho/Bariatrics\nTopic: Heparin drip errors: lessons from our RCA'],
  [false, 'Order #OG-77120934 placed 02/14/2025 by Brightwater Family Clinic\nPaid with Visa ending in 4417. Business account #118-204-77.\nShips to: 1840 Knapp St NE, Grand Rapids MI 49505'],  // a board with the surname in capitals; "mr" and the surname wrapped onto the next line; a form's label and value pairs read as a table
  [true, 'Rm    Pt                   Age/Sex  Dx / plan\n5102  TRAN, Janet          78F      CHF exac. lasix 80 IV BID, K 3.1 repleting'],
  [true, 'hey rob sorry to bug u on ur personal, epic secure chat is down again. mr\ndelgado in 412 (4B), 67M admitted for cellulitis, c/o chest pressure'],
  [true, 'Can you please change my direct deposit.\n\nName\tJerome Baptiste-Ng\nEmployee ID\t448120\nRouting #\t271974664\nAccount #\t000983310571\nType\tChecking - 100%'],
  // "wrote:" wrapped onto the next line; a culture and its organism
  [true, 'Please call us.\n\nOn Mon, Aug 11, 2025 at 6:05 AM Dolores Whitfield <dwhit52@coolmail.example>\nwrote:\n\n> the sugar numbers were 300 this morning. my mouth is so dry and i feel shaky.'],
  [true, 'Hi Dana Kowalczyk,\n\nFollowing up on your visit on Saturday 3/8. Your urine culture came back growing E. coli, resistant to the Bactrim you were prescribed.'],  // an organisation's account; a training record and its birth date; a bulletin's number; a volunteer's hospice; a registry's submission
  [false, 'Prairie Language Services - Client Portal Export\nClient: RIVERBEND REGIONAL MEDICAL CENTER (Acct C-00412)\nOncology infusion: 14 jobs, 311 minutes'],
  [false, 'RE: allocation - cisplatin / carboplatin / IV sodium bicarb (acct RBMC-340B-0412)'],
  [false, 'Open the TRAINING record "ZZTEST, DOWNTIME" (MRN 99900012 - training environment only, not a real patient) and print the face sheet for the sepsis drill.'],
  [false, 'SIMULATED PATIENT\nName: Stanley SIMMONS (manikin)    Training MRN: SIM-000451    DOB: 01/01/1960 (training default)\nBackground: 65M, POD 2 after sigmoid colectomy for diverticulitis.'],
  [true, 'Name: Stanley Simmons    MRN: 00592310    DOB: 01/01/1960\nBackground: 65M, POD 2 after sigmoid colectomy for diverticulitis.'],
  [false, 'PROVIDER BULLETIN 2025-07\n\nNew member ID format effective July 1, 2025 for all Medicare Advantage members; diabetes supplies unchanged.'],
  [false, 'Jordan M. Ellery\n318 Birchwood Ave, Madison, WI 53705\n\nVolunteer, Lakeshore Hospice (June 2023 - present)'],
  [false, 'Name               Credential   Expires\nHemodialysis infection control in-service on Tuesday.'],  // "add … to the OR list for …": an everyday cue, the care in the name's sentence
  [true, "pls add Jamal Price to Thursday's OR list for lap appy.\n34M, NPO after MN, consent signed."],
  [false, 'Please add Jamal Price to the distribution list for the board minutes.'],  // a bare "acct" is a patient's only in mail about a patient or a bill; a lot is no record; a form's fields one a row
  [false, 'Please process the following for Maple Ridge Family Med, acct # MRFM-20418, PO 24-1187.\nFluzone flu vaccine, 10 x 10 doses.'],
  [true, 'Re: Acct RMC-3501344 prep instructions\n\nPt called confused about the colonoscopy prep.'],
  [false, 'Recall: ThermaFlo Patient Warming Blanket, lots 24K118 & 24K121. Ridgeview Community Hospital acct on file. Burns reported.'],
  [true, 'Can you change my direct deposit?\n\nName\tJerome Baptiste-Ng\t\nEmployee ID\t448120\t\nDept\tEnvironmental Services - nights\t\nRouting #\t271974664\t\nAccount #\t000983310571\t\n'],  // an event's venues with their streets; French "M." at a line's end; a first name that is also a day's abbreviation, after "Madame"
  [false, 'Free flu vaccination clinics:\n - Millbrook Public Library, 201 Main St - Oct 28, 2:00-5:30 pm\n - Fresh Fare Market, 55 Elm St - Oct 30'],
  [false, 'Ramadan and diabetes workshop: Sat Feb 15, 11 am, Grand Mosque hall, 6200 Warren Ave, Dearborn.'],
  [false, 'Reading list, cardiology block: Dubin D., Rapid Interpretation of EKGs. Guyton A., Hall J., Textbook of Medical Physiology, ed. M.\n   ISBN 978-0-323-59712-8'],
  [true, 'Madame Thu Castillo, née le 26 février 1973\nMotif : douleurs thoraciques'],  // the placeholder names and record numbers of trainings and demos
  [false, 'Example of what should NEVER go out unencrypted: "Pt Jane Doe, MRN 00XXXXXX, adm w/ CHF, rm 4W-4xx."'],
  [false, 'Screenshot shows demonstration data only. "Jane Sample", MRN DEMO-000123 and member ID XYZ000000000, diabetes follow-up.'],
  [true, 'Pt Jane Dodd, MRN 00592310, adm w/ CHF, rm 4W-412.'],  // an inventory's columns; an event's speaker after its street; a vendor's account in mail about physical therapy (PT) rooms
  [false, 'Asset#\tMfr/Model\tSerial_No\tDept-CostCtr\tLoc (Rm)\nSB-020117\tPhilips IntelliVue MX450\tDE71852204\tICU-61100\tICU-08'],
  [false, 'Free workshop "Fasting in Ramadan with diabetes" - Sat Feb 15, 11 am, 6200 Warren Ave, Dearborn. Speaker Dr. Samir Haddad. Free blood sugar checks.'],
  [false, 'Location: Ortho / PT; Modality: In person\nBackup vendor (OPI/VRI): Propio acct #BW-22014, 24/7 line (800) 555-0135. Diabetes education room booked.'],  // a caregiver's signature naming the person whose health the letter tells ("his medicine", "his Abilify shot")
  // a name with an admission in the parenthesis after it; a place with its room
  [true, 'Harold Twombly (5N-22, admitted 3/9 w/ CHF exacerbation) is going to Maple Crest SNF probably Monday.'],
  [false, 'Grand rounds: Hartwell Auditorium (Pavilion B, Room B-120) and Zoom. Speaker: Nadia Reyes, MD. Case: a 58-year-old man with HIV and PML.'],
  // a subject that starts with a name and a topic, the body telling that first name's own health (in a quoted note too); or only their paperwork
  [true, 'Ethan Marsh - return to play\n\nBen,\n\nSee her note below.\n\n> Dr Rao, Ethan is still getting headaches every afternoon since the game.'],
  [false, 'Ethan Marsh - return to play\n\nBen,\n\nEthan is still getting the forms in; practice starts Monday.'],
  // a vendor's account and its phone number are no patient's record, in mail that also says "pt"; a patient's account is
  [false, 'Backup vendor (OPI/VRI): Propio acct #BW-22014, 24/7 line (800) 555-0135.\nPlease log encounters only, no pt names in the tracker.'],
  [true, 'Pt statement: acct #BW-22014, balance due $140 for the MRI on 3/4.'],
  // FHIR test health data (HTEST) and a test patient's row, whatever its length, carry no one's birth date or numbers
  [false, '{"resourceType": "Bundle", "meta": {"tag": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]},\n "entry": [{"resource": {"resourceType": "Condition", "code": {"text": "Type 2 diabetes"}}}, {"resource": {"resourceType": "Patient", "birthDate": "1957-04-12"}}]}'],
  [false, 'MRN: TEST000102; Last: ZZTEST; First: BRAVO; DOB: 1975-06-15; Sex: M; SSN: 000-11-0102; Plan: COMM; Member ID: TSTMBR0000102; Scenario: commercial w/ copay, diabetes'],
  // a roster aligned with spaces: each row's name and notes read together; residents (physicians) on a rotation schedule are no patients
  [true, 'Roster for Living Well with Diabetes, week 2.\n\nName           Phone           A1c   Notes\n-------------  --------------  ----  --------------------\nCarmen Villa   (614) 555-0211  9.4   new on glargine 14 u\nFrank Dorsey   (614) 555-0232  8.1   neuropathy\n\nThanks!\nRebecca'],
  [false, 'Final block schedule.\n\nResident                 Block 7                  Block 8\n-----------------------  -----------------------  -----------------------\nAisha Rahman, MD         Hem/Onc wards            Inpatient Psychiatry CL\nBenjamin Adeyemi, MD     MICU                     Elective: Palliative\n\nThanks,\nRebecca'],
  // a clearinghouse's test subscriber and the test NPI near "member ID"; a group's tax id; organisations shipped to; a training record; a program list's cells
  [false, 'Attached is a SAMPLE 270. The subscriber TESTSUBSCRIBER, ONE with member ID TST000000001 and the NPI 1234567893 are our standard test values.\nNM1*IL*1*TESTSUBSCRIBER*ONE****MI*TST000000001~DMG*D8*19800101*F~EQ*30~'],
  [false, 'Provider Last: Fong; Provider First: Calvin; Credential: PA-C; Specialty: Orthopaedic Surgery; Group TIN: 421587330'],
  [false, 'Invoice 88213\nShip to: Northgate Reference Laboratory, 4410 N. Industrial Blvd, Chicago, IL 60630\nCreatinine reagent kit x 4'],
  [false, 'Practice in the training system only:\n\n    Resident: ZZTRAIN, DOWNTIME\n\nEnter lab results and a diagnosis of pneumonia.'],
  [false, 'Program: Northfield CMH - Addiction Services; Type: Outpatient/IOP; Services: IOP, MAT, dual diagnosis; Address: 900 E Jefferson Blvd, Garfield IN; Phone: 574-555-0102'],
  [false, 'Program: New Horizons Recovery Center; Services: Methadone, counseling; Address: 3300 S Harlem Ave, Cedar Plains IL; Phone: 708-555-0150'],
  // a forwarded patient's message in Spanish, in the first person; a colleague's about her patients
  [true, 'Could you translate the message below?\n\n---------- Mensaje reenviado ----------\nDe: María López <mlopez.casa@mailbox.example>\nAsunto: ayuda\n\nHola, soy María López, tengo diabetes desde hace 6 años y se me acabó la metformina.'],
  [false, 'Could you translate the note below?\n\n---------- Mensaje reenviado ----------\nDe: Rosa Ibáñez <ribanez@clinic.example>\nAsunto: taller\n\nHola, mis pacientes con diabetes quieren un taller de cocina el sábado.'],
  // names typed in lower case (a given name and a surname) with their own care, a writer naming themselves, a lower-case signature; ordinary words after a given name
  [true, 'ruth walters in 4E-12 pulled her PICC again, site ok, still needs her vanc at 0600. can someone come up'],
  [true, 'ok put maria delgado in for tues 10am for her INR, she is coming off the 5mg'],
  [true, 'hi its tom reyes, dr lee started me on the amlodipine last week and i get real dizzy when i stand up. my bp this morning was 104/62'],
  [true, 'i take the metformin 1000 twice a day. attached my sugar readings from the meter app. do i need insulin now??\ntyrone ellis'],
  [false, 'maria said the printer on 4E is jammed again and her badge does not open the med room either'],
  [false, 'ask ruth walters in HR about her PTO balance before friday'],
  // a greeting's honorific is the reader: no one's health without "your" or a family member's; birth dates in Spanish and Vietnamese
  [false, 'Hello Ms. Pruitt,\n\nThe #14 bus stops in front of the campus. Strollers and wheelchairs are fine; blood pressure and glucose screening tables are open to everyone.'],
  [true, 'Hi Mr Mitchell\nDr Patel sent the refill for Jaylens Concerta to the Walgreens. He is due for his ADHD med check by 7/15.'],
  [true, 'Le mando las fotos del sarpullido de Mateo (Mateo Sánchez Ruiz, 4 años, nació el 03/06/2021). Empezó al tercer día de la amoxicilina para la infección de oído.'],
  [true, 'Em là Khoa, con trai của bà Nguyễn Thị Lan (ngày sinh 12/05/1951). Mẹ em đang chạy thận ở center, tuần sau mổ đục thủy tinh thể (cataract surgery).'],
  // a cue after the name's parenthesis; an invoice's column headers, an EHR's tool and a form's certifying officer are no one
  [true, 'Joanne Nakamura (Environmental Services, claim WC-24-117730, DOI 11/04/2024) was seen by Dr. Esposito today, 16 wks post R rotator cuff repair.'],
  [false, 'Customer account: MVH-2209\tPO: 4500871162\nQty Description\tUnit\tAmount\n212 Console service (65 gal), outpatient clinics\t$16.50\t$3,498.00'],
  [false, 'Counts come from an EHR cohort query (Epic SlicerDicer) of adult inpatient heart failure admissions, 2023-2024: 412 patients.'],
  [false, 'OSHA 300A summary: 3 cases of hearing loss, 12 days away from work.\nName: Catherine Ruiz-Molina Title: Chief Operating Officer Phone: 505-555-0100'],
  [true, 'Leave certification. Employee: Priya Raghunathan Job title: RN\nCondition: preeclampsia, bed rest until delivery.'],
  // a staff schedule aligned with spaces: a unit's name is no one's health; a census aligned the same way is
  [false, 'Next week:\n\nName             Unit          Shift    Notes\n---------------  ------------  -------  ---------------\nMaria Lopez      Oncology      Days     orientation wk 2\nAisha Bello      Dialysis      Days     BLS renewal due\n\nThanks,\nKim'],
  [true, 'Patient          Room   Reason\nRosa Diaz        412    CHF exacerbation\nTom Becker       415    pneumonia\n'],
  // a name, a room, a dash and the finding
  [true, 'Maria Delgado 412 - K came back 5.9, hemolyzed? redraw sent. EKG looks ok to me.'],
  [false, 'Maria Delgado 412 - printer jammed again, can IT come up before noon'],
  // a teacher signing after a sign-off; a camp's crew after "the"; a web address's "acct=" parameter; a formulary's and a scorecard's column words
  [false, 'A quick health note: a stomach bug is going around. Keep kiddos home 24 hours after any vomiting or diarrhea.\n\nHave a lovely weekend,\nMrs. Kim\nWestlake Elementary'],
  [false, 'Blank camper health form attached: allergies, asthma inhaler, diabetes, immunization record.\n\nSee you in June,\nJosh & the Tall Pines crew\nCamp Tall Pines | 44 Lakeshore Rd'],
  [false, 'Spring sale for your practice: SKU PD-90025 $89.00/case, patient bibs 20% off.\nSHOP NOW [https://supply.example/spring?utm_source=email&acct=52218]'],
  [false, 'Drug Name: HUMIRA PEN; Strength: 40 MG/0.4 ML; NDC: 00074-0554-02; Current Tier: 3; New Tier: 4'],
  [false, 'Northgate Provider Relations, 3000 Corporate Dr, Lexington, KY 40503\nStar Ratings 2025: diabetes care - eye exam 78%'],
  // a calendar invitation's summary naming a child's well visit; a vaccine clinic's announcement names no one
  [true, 'BEGIN:VEVENT\nDTSTART:20250408T144000Z\nSUMMARY:Harper Lindgren - 12 mo well child visit (Dr. Salazar)\nDESCRIPTION:Vaccines due: MMR\\, varicella\nEND:VEVENT'],
  [false, 'Walk-in vaccine clinic Saturday 9-12 at the Eastside campus: flu and COVID vaccines for everyone 6 months and older, no appointment needed.'],
  // a parent's quoted message naming her child by first name and the care the child received; a parent's about a school play
  [true, 'Thanks, noted.\n\nFrom: Marisa Castillo <marisa.castillo@mail.example>\nSent: Tuesday, October 22, 2024 7:15 AM\n\nHi Ms. Ellery, as you know Ruby was in Children\'s for 3 days with DKA and was diagnosed with type 1 diabetes on 10/3.'],
  [false, 'Thanks, noted.\n\nFrom: Marisa Castillo <marisa.castillo@mail.example>\nSent: Tuesday, October 22, 2024 7:15 AM\n\nHi Ms. Ellery, Ruby was chosen for the school play and needs the costume list.'],
  // a job posting's requisition number beside "Patient Account"; a fee schedule's "Good Faith Estimate"
  [false, 'Now hiring: Patient Account Representative II (Req #25-0318) - hybrid. Experience with claims, denials and CPT coding preferred.'],
  [false, 'Self-pay fee schedule attached (CPT 99213 $145). If a patient asks for a Good Faith Estimate for an MRI, quote from this list.'],
  // a recall notice's subject is no one; a change number near "patient accounting" is no patient account number
  [false, 'FW: URGENT: Voluntary Recall - metformin ER 500 mg, lots 24A118 and 24A121 (NDC 0093-7212-01). Patients may continue their metformin until replaced.'],
  [false, 'PLANNED DOWNTIME NOTICE - Change CHG0031772\n\nWhat:   Upgrade of the patient accounting system (Resolve 24.2 -> 25.1). Terminal sessions will close.'],
  [true, 'Patient account CHG0031772: balance due for the colonoscopy on 3/4.'],
  // a nurse's own health as employee health writes it (the pronoun and the term across a hard line wrap); staff at their work
  [true, 'Following up on our call. Tamara Voss, RN (5 West, employee ID 118274) had her annual\nQuantiFERON-TB Gold Plus drawn 10/08 and it came back POSITIVE.'],
  [false, 'Kim Tran, RN, CWOCN will teach her wound care class on Tuesday in Room 3.'],
  [false, 'Lisa Gomez, MA is covering her dialysis shift on Friday.'],
  [false, 'Please welcome Maria Lopez, RN, who joins 4 West after her oncology fellowship at Ohio State.'],
  [true, "Dr Feld,\n\nDaniel hasnt been taking his medicine, the Abilify shot was due last week and he didnt go.\n\nCarol Jennings (Daniel's mom)\n555-0165"],
  [false, "Dr Feld,\n\nThank you for the talk at the school on Tuesday, the kids loved it.\n\nCarol Jennings (Daniel's mom)\n555-0165"],  // a birth date in parentheses after a name, in ISO or written form; a dateline's date after a name is no one's birth date
  [true, 'Could you get Ifeoma Chukwu (1961-08-02) onto the echo schedule? It is her 6-month visit for the heart failure registry.'],
  [true, 'Please add Rosalind Achebe (March 4, 1957) to Thursday; she needs her INR checked.'],
  [false, 'Posted by Megan Holloway, March 4, 2025: our heart failure clinic now has evening hours.'],
  // a client by given name and initial after a client's label, as behavioral health writes one; a lunch order's "Name:" is staff's
  [true, 'Client: Brianna T. (Okafor)   Case: HL-24-2210\nDoses daily at 80 mg methadone; all random screens negative.'],
  [false, 'Lunch for the sepsis in-service\nName: Brianna T.   Order: turkey on rye\nName: Malik O.   Order: veggie wrap'],
  // substance-use treatment as court and probation letters tell it
  [true, 'Re: monthly compliance\n\nPatient: Desmond Carver\nAttended 10 of 12 IOP sessions; two urine drug screens this month, both negative.'],
  [false, 'Our IOP groups move to Room 4 in March; urine drug screens are collected at the front desk from 8 to 10.'],
  // a town after its street is no one's name; a contact card's work address and phones are the card holder's office
  [false, 'Feria de salud: vacunas, presión arterial y glucosa gratis.\nIglesia San José, 415 W. Mound St., Alder Crossing\nInformes: (740) 555-0110'],
  [false, 'Now hiring: RN, cardiac step-down.\n\nBEGIN:VCARD\nFN:Rachel Goldfarb\nORG:Riverbend Health\nTEL;TYPE=CELL:+1-740-555-0387\nADR;TYPE=WORK:;;2400 Riverbend Parkway;Alder Crossing;OH;43512\nEND:VCARD'],
  // an accreditor's name after "patient" is no patient's; a therapist signing with an associate's licence is staff
  [false, 'To match the service to that patient (Joint Commission NPSG.01.01.01) two identifiers are used in all inpatient settings.'],
  [false, "Friday works.\n\nOwen Pritchard, MA, LPC-Associate\nOutpatient Therapist, Riverbend CMHC"],
  // a facility's name on a ship-to line; an aligned list's place in the next column is no one's home
  [false, 'Ship to: Willow Creek Care Center - Attn: Central Supply\nHydrocolloid dressing 6x6 in, bx/5 for wound care'],
  [false, "Meetings we give out at IOP discharge:\n  7:00a  Early Birds AA (open)          St. Patrick's, 282 Suffolk St"],
  [false, 'SUMMARY:DBT Skills Group\nLOCATION:Rm 2B, 410 Canal St\nDESCRIPTION:Facilitators: Chris A. / Mei T. Bring diary cards. Relapse prevention this week.'],  // training patients: a ZZ surname, a training environment's record prefix; a real patient's row in the same shape is protected
  [false, 'Seat 3  ZZTRAIN, KILO   TRN000311   DOB 03/15/1971   scenario: CHF exacerbation, start furosemide'],
  [false, 'Client: Jordan SAMPLE (role-play)   MRN: TRAIN-004417\nScript: two overdoses this year, asks about buprenorphine.'],
  [true, 'Ramirez, Lucia   MRN 4471203   DOB 03/15/1971   CHF exacerbation, start furosemide'],
  [false, 'Name\tTRN MRN\tDOB\tScenario\nZZTRAIN, LIMA\tT90000311\t01/01/1960\tInpatient admit from ED'],
  // an organisation's own bank account (its operating account, where payments are remitted); a patient's refund account is protected
  [false, 'Please set up EFT for our group.\nBank: First Keystone Community Bank\nABA routing: 031307413\nAccount (checking): 4410029917 (Riverbend operating account)'],
  [false, 'REMIT TO\nACH / wire: Apex Wound & Skin Supply, Inc.\nBank: Heartland Commerce Bank  ABA routing: 041201570  Account: 7720031845'],
  [true, 'The patient asked for the refund by direct deposit to her checking.\nABA routing: 031307413\nAccount: 4410029917'],  // patients writing in Chinese, Korean, Vietnamese and Haitian Creole: their dates of birth, health words and self-introductions; events in those languages are no one's
  [true, '我妈妈今年78岁（1947年5月2日出生），最近记性越来越差，是不是痴呆了？'],
  [true, '저는 박순자 님(1951년 11월 3일생)의 딸입니다. 엄마 당뇨약이 다 떨어졌어요.'],
  [false, '糖尿病讲座：2025年11月3日下午两点，社区中心，欢迎参加。'],
  [false, '2025년 11월 3일 당뇨 예방 교육 행사 안내: 누구나 참석 가능합니다.'],
  [true, 'Chị Lan, sinh ngày 12/03/1958, bị tiểu đường và cao huyết áp.'],
  [true, 'Bonjou,\n\nSe Marie-Claude Pierre-Louis ki ekri w. Yè swa mwen te tcheke tansyon m, li te 182/110.'],
  [false, 'Mwen rele Jean Baptiste, mwen ta renmen ede nan klinik vaksen grip la samdi.'],
  [true, 'hey its Marco Delgado again, the rash on my arm is spreading and now its on my neck too'],
  [false, 'Re: Boletim de Saúde Riverside – Outubro 2025\n\nCancela minha inscrição.\n\n> Outubro Rosa: mês de conscientização do câncer de mama. Faça sua mamografia.'],  // a subject that starts with a client's name, "Last, First" too, and a body sentence that starts with the first name and names their care
  [true, 'RE: Okonjo, Damien - monthly compliance\n\nRachel,\n\nDamien has made 9 of 10 scheduled IOP sessions since 3/1.'],
  [true, 'RE: Damien Okonjo - monthly compliance\n\nRachel,\n\nDamien has made 9 of 10 scheduled IOP sessions since 3/1.'],
  [false, 'RE: Damien Okonjo - front desk schedule\n\nDamien will cover the desk on Friday. The diabetes class moved to Room 2.'],
  [false, 'Ship to: Northgate Reference Laboratory\nLine Item#\tDescription\tQty\n1\tALT reagent cassette\t12\n2\tCreatinine enz. cassette, 800 tests\t8'],
  // an X12 test interchange (ISA15 "T"), placeholder and sample persons, an employer's tax id and an X12 date are no one's
  [false, 'ISA*00*          *00*          *ZZ*RIVERBENDRMC   *ZZ*CLAIMBRIDGE    *240829*1020*^*00501*000000001*0*T*:~GS*HC*A*B*20240829*1020*1*X*005010X222A1~ST*837*0001*005010X222A1~HL*2*1*22*0~NM1*IL*1*ALVAREZ*MARIA****MI*W482913057~DMG*D8*19610214*F~HI*ABK:E119~SE*6*0001~GE*1*1~IEA*1*000000001~'],
  [true, 'ISA*00*          *00*          *ZZ*RIVERBENDRMC   *ZZ*CLAIMBRIDGE    *240829*1020*^*00501*000000001*0*P*:~GS*HC*A*B*20240829*1020*1*X*005010X222A1~ST*837*0001*005010X222A1~HL*2*1*22*0~NM1*IL*1*ALVAREZ*MARIA****MI*W482913057~DMG*D8*19610214*F~HI*ABK:E119~SE*6*0001~GE*1*1~IEA*1*000000001~'],
  [false, 'Companion guide sample, 270 request:\nST*270*0001*005010X279A1~HL*3*2*22*0~NM1*IL*1*LASTNAME*FIRSTNAME****MI*MEMBERID~DMG*D8*CCYYMMDD~SE*5*0001~'],
  // HL7 test messages (MSH-11 "T"), a specification's sample patient, a record marked "(training)", a test patient's fields a few lines down, filler numbers
  [false, 'MSH|^~\\&|ADT|SBRMC_TEST|EPIC|SBRMC|20250310101500||ADT^A04^ADT_A01|TST1|T|2.5.1\rPID|1||4471203^^^SBRMC^MR||OKAFOR^GRACE^A||19800101|F\rDG1|1||E11.9^TYPE 2 DIABETES^I10'],
  [true, 'MSH|^~\\&|ADT|SBRMC|EPIC|SBRMC|20250310101500||ADT^A04^ADT_A01|MSG1|P|2.5.1\rPID|1||4471203^^^SBRMC^MR||OKAFOR^GRACE^A||19800101|F\rDG1|1||E11.9^TYPE 2 DIABETES^I10'],
  [false, 'Attached is the test CCD, made with the standard test patient PUBLIC, JOHN Q (TST MRN 9990001, DOB 01/01/1960), for the HIE onboarding; it lists hypertension.'],
  [false, 'Your training patient\nPatient: ZZTRAIN, ADULTFEMALE 03\nMRN: T0000873 (training)\nDOB: 01/01/1955\nAdmitting dx: heart failure'],
  [false, 'PID segment of the interface test: SSN 999-99-9999, NICU admission for the newborn test case.'],
  [false, 'CARC\tDescription\tClaims\tOwner\nCO-50\tNot deemed a medical necessity; diagnosis not supported\t198\tPatient Access - Liz Romero'],
  [false, 'Group NPI (Type 2): 1862014473\nFederal Tax ID (EIN): 81-2274593\nOregon Medicaid (OHA) provider ID: 500482913\nClinic services: diabetes education, infusion'],
  // a birthday as Taglish and English write it, Nepali's and Somali's birth words, Medicare's Part A and B beside the number, Spanish as parents write it
  [true, 'Pangalan: Lourdes Santos Dizon\nBirthday: 12/08/1956\nKailangan po ng refill ng gamot niya sa diabetes.'],
  [true, 'बुबाको जन्म मिति 03/15/1962 हो। उहाँको चिनी रोगको औषधि सकिन लाग्यो।'],
  [true, 'Wiilkayga Cabdiraxmaan (4 jir, dhashay 02/11/2021) saddex maalmood ayuu qandho hayaa.'],
  [true, 'ФИО: Кузнецова Галина Петровна\nНомер с её карточки: 5TQ2-WR7-HN84\nPart A и Part B — с 01.09.2006.'],
  [true, 'Les escribo porque a mi hijo Mateo (nació el 03/11/2016) ya casi no le queda nada del inhalador; tiene asma.'],
  [false, 'Happy birthday to our clinic! Founded 03/11/1986, we now offer asthma education every Tuesday.'],
  [false, 'Loop 2010BA Subscriber (example)\nST*837*0001*005010X222A1~HL*2*1*22*0~NM1*IL*1*SUBSCRIBER LAST*FIRSTNAME****MI*XYZ000000000~REF*EI*314472986~ (Tax ID)\nDMG*D8*19000101*F~\nMember ID must match the card.'],
  // an unidentified patient is a real one
  [true, 'ST*837*0001*005010X222A1~HL*2*1*22*0~NM1*IL*1*DOE*JOHN****MI*W482913057~DMG*D8*19610214*M~HI*ABK:S0601XA~SE*5*0001~'],
  // the writer's family member, identified by the writer's signature; a parent's Spanish signature; a pharmacy's prescription number
  [true, 'Dad fell again last night and his hip is sore, he is on a blood thinner now.\n\nThanks,\nKaren Kowalczyk'],
  [true, 'Hi, my mother has been dizzy since they changed her blood pressure pills.\n\nThank you,\nDarnell Whitaker'],
  [false, 'My son starts at the cancer center as a volunteer next week, so I will leave early on Friday.\n\nThanks,\nKaren Kowalczyk'],
  [false, 'Dad jokes are back at the staff party! Flu shots in the lobby on Friday.\n\nKaren Kowalczyk'],
  [true, 'Les escribo por mi hijo. Le falta el aire en las noches y el inhalador ya no le ayuda.\n\nGracias,\nRosa Elena Quintanilla\nMamá de Mateo Quintanilla'],
  [true, 'Hi LUIS, your prescription ESCITALOPRAM 10MG TAB (Qty 30, Rx #6604718) is ready for pickup at CareWay #2214.'],
  [false, 'Our pharmacy filled 1,200 prescriptions last month: the Rx #1 choice in the county for diabetes supplies.'],
  // a directory's location column is the department's place; a roster's address column is the person's home
  [false, 'Department\tLocation\tMain ext\tManager\nPediatrics - Central Point\t410 E Pine St\t541-555-0168\tRenee Castillo\nOncology / Infusion\tBldg B, 1st fl\t541-555-0170\tSun-Hee Park'],
  [true, 'Name\tAddress\tDiagnosis\nJohn Smith\t12 Oak Street, Springfield\ttype 2 diabetes\nMaria Lopez\t48 Elm Avenue, Springfield\tCOPD'],
  // an organisation's name with its address (a school, a day program after a place's label); a person's still counts
  [false, 'Sports physical form: blood pressure, pulse, asthma Y/N, concussion history.\nReturn completed form to the Athletic Office, Fairmont Area Middle School, 300 School St.'],
  [false, 'BEGIN:VEVENT\nSUMMARY:Dementia caregiver support evening\nLOCATION:Maple Grove Adult Day Services, 78 Maple Grove Rd, Portland OR\nEND:VEVENT'],
  [true, 'Mail the discharge papers to Frank Miller, 18 Chestnut St, Dayton; he is on home oxygen now.'],
];
const settings = builtInSettings([]);
const sources = new Proxy({}, { get: () => 'built-in default' }) as Record<string, string>;

describe('protected like PHI, or not: snippets from nobody\'s corpus', () => {
  it.each(cases.map(([protect, text]) => [text.slice(0, 60).replace(/\n/g, ' / '), protect, text] as const))('%s → %s', (_name, protect, text) => {
    const v = inspectText(text);
    const p = baseProtection(settings, sources, { sender: 'a@hospital.example', connector: 'default', size: text.length, phi: v.phi, findings: v.findings, notFullyScanned: false, subjectTagged: false, attachments: [], encrypted: false }).protection;
    expect(p === 'verified-tls').toBe(protect);
  });
});
