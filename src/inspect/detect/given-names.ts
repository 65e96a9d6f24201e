/**
 * Common given names of people in the United States, across generations and
 * the communities US hospitals serve (English, Hispanic, Vietnamese, Chinese,
 * Korean, South Asian, Arabic, African and African American, Filipino,
 * Slavic names), in lower case without accents, leaving out those that are
 * also ordinary English words ("will", "may", "grace", "mark"): how a name
 * typed in lower case is told from two ordinary words ("ruth walters in
 * 4E-12 pulled her PICC"). 1505 names. Pure data and one test.
 */

/** The given names, lower case, ASCII. */
export const GIVEN_NAMES: ReadonlySet<string> = new Set(
  [
    'aaliyah aarav aaron abdel abdi abdiaziz abdikadir abdirahman abdirizak abdul abdullah abdullahi abena abigail abiodun adaeze adalyn adalynn adam',
    'adaobi addison adebayo adeline adeola adewale aditi aditya adnan adolfo adrian advait agnes agnieszka agustin ahmad ahmed aiden aisha aishwarya ajay',
    'akash akiko akosua alan albert alberta alberto alejandro aleksandr aleksandra aleksey alex alexa alexander alexandr alexandra alexei alfonso alfred',
    'alfredo ali alice alicia alina allan allen allison alma alonso alvaro alvin alyssa amaka amanda amar amelia amina amir amit amr amy ana ana-maria',
    'analyn anand ananya anas anastasia anatoly andre andrea andrei andres andrew andriy andy angela angelo angie anh anil anita anjali ankit ann anna',
    'annabelle anne annette annie anthony anton antonio anu anusha aoife aparna archana aria ariana arianna ariel arjun arkady arlene armando arnav arnel',
    'arnold artem arthur arturo artyom aruna arya asha asher ashley ashok aubree aubrey audrey aurelio austin ava avery axel ayaan ayan ayana ayanna ayman',
    'ayodele aysha babatunde bailey baltazar bao barbara barry bartolo bassam beata beatrice becky belinda bella ben benito benjamin bennett bernard',
    'bernardo bernice bertha bessie beth betty beverly bhavana bilal billie billy binh bisi bobbie bobby bohdan bolaji bonnie boris bozena brad bradley',
    'brandi brandon brayan brenda brendan brent brett brian brielle brittany brooklyn bruce bryan bukola byron caleb calvin cameron camila candace',
    'candelario carl carla carlos carlton carmen carole caroline carrie carson carter cassandra catherine cathy cecil cecilia cesar chad chantel charlene',
    'charles charlie charlotte cheryl chester chiamaka chibuzor chidi chinedu chinonso chinwe chinyere chioma chisom chitra chloe christina christopher',
    'christy chukwuma ciara ciaran cindy claire clara claude claudia clayton clifford clifton clinton clyde cody colleen colm connie connor constance',
    'cooper cora corey cory courtney crisanto cristian cristobal cuong curtis cynthia damilola dan dana daniel danielle daniil danilo danny dante danuta',
    'dapo darius darlene darnell darrell darren darryl daryl dashawn dave david davon dayo deandre deanna debbie deborah debra declan deepa deepak deepika',
    'delilah delores demetrius denis denise dennis derek derrick deshawn devonte diana diane dianne diego diep dinesh divya dmitri dmitry dmytro dolores',
    'domingo dominic dominique donald donna donnie dora doris dorota dorothy doug douglas doyun duane duc durga dustin dwayne dwight dylan eamon earl',
    'easton ebuka eddie edgar edith edna eduardo edward edwin efrain egor eileen elaine eleanor elena eli eliana elias elijah eliseo elizabeth ella ellen',
    'ellie elmer elsie elzbieta emeka emerson emersyn emery emilia emilio emily emma emmett enrique eric erica erick erik erika erin ernest ernesto esteban',
    'esther ethan ethel eugene eugenio eunice eunji eunjung eunwoo eva evan evaristo evelyn everett everly evgeny ewa ezekiel ezequiel ezra fabian fabiola',
    'fadi faduma fannie fares faris fatima faustino faye federico felicia felipe felix femi feng fergus fermin fernando fidel florence florentino floyd',
    'folake frances francesca francis francisco franklin fred freddie frederick fredrick funmilayo fyodor gabino gabriel gabriella gael gail ganesh gary',
    'gayatri gbenga geeta genaro geneva genevieve gennady george georgia gerald geraldine gerard gerardo gertrude gianna gilbert gilberto gina giovanni',
    'gita giulia giuseppe gladys glenda glenn gloria gonzalo gopal gordon grayson grazyna greg gregorio gregory greyson grigory guadalupe guerline',
    'guillermo guoqiang gustavo gwendolyn hadley haeun hai hailey hajun halima halina hamza hanh hani hannah hao harish harold harper harriet haruto harvey',
    'hassan hattie hau hawa hayoon heather hector heidi helen henry herbert heriberto herman hien hieu hilario hilda hiroshi hoa hoang hodan homer hong',
    'horacio howard hua hubert hudson hugh hugo hui humberto huong hussain hussein huy hyejin hyunwoo ian ibrahim ibukun ida ifeanyi ifrah ignacio igor',
    'ihor ikenna ilhan ilya imad imani imelda indira inez irene irma isaac isabel isabella isabelle isaiah isaias ishaan isidro isla ismail israel issa',
    'ivan iwona izabela jace jacinto jackie jackson jacob jacqueline jada jadwiga jaehyun jagdish jaime jairo jalen jamal james jameson jamie jamila janae',
    'jane janet janice janie jared jason javier jaxon jaxson jay jayden jayla jaylen jazmine jean jean-baptiste jean-charles jean-claude jean-jacques',
    'jean-louis jean-marc jean-michel jean-paul jean-philippe jean-pierre jean-robert jeanette jeanne jeff jeffery jeffrey jennie jennifer jenny jeremiah',
    'jeremy jermaine jerome jeronimo jerry jesse jessica jessie jesus jiah jian jiang jianguo jianhua jianjun jide jie jieun jiho jihoon jill jim jimin',
    'jimmy jin jing jingjing jinhee jiwoo jiyeon jiyoung joan joann joanna joaquin jodi joe joel joey john johnny jolanta jomar jon jonalyn jonathan jordan',
    'jorge jose jose-luis jose-manuel josefina joseph josephine joshua josiah joyce juan juan-carlos juana juancarlos juanita judith judy julia julian',
    'juliana julie julio julius justin justyna jyoti kai kareem karen karim karl karolina katarzyna katherine kathleen kathryn kathy katie katrina kavita',
    'kavya kayden kayla kaylee kayode keiko keisha keith kelechi kelly kemi ken kenji kennedy kenneth kenny kent ketly kevin khadra khaled khalid khanh',
    'khloe khoa khoi kiana kiara kimberly kinga kingston kinsley kiran kirill kirk kofi konstantin krishna kristen kristi kristin kristina kristine',
    'krystyna krzysztof kumar kunle kurt kwame kyle kylie ladan lakeisha lakisha lakshmi lam lamar laquita larry lashawn lashonda lata latanya latisha',
    'latonya latoya latrice laura lauren laurie lawrence layla lazaro leah lei leila leilani lena leo leobardo leon leona leonard leonardo leonel leonid',
    'leopoldo leroy leslie lester levi lewis liam liang liban ligaya lili liliana lillian lillie lin lincoln linda lindsay lindsey ling linh lisa lloyd',
    'logan lois lonnie lorenzo loretta lori lorraine louis louise luan luca lucas lucio lucja lucy luis luke luna luther luzviminda lydia lyla lyle lynda',
    'lynn mabel mackenzie madeline madelyn madhu madison mae magdalena maggie mahad mahesh mahmoud mai majid maksim malgorzata malik manish manoj manuel',
    'marc marcelino marcia marco marcos marcus margaret margarita margie marguerite maria maria-elena maria-luisa mariam marian mariano maricar maricel',
    'marie marie-ange marie-carmelle marie-claire marie-france marie-louise marie-therese marilou marilyn mario marion marites marjorie marlene marquis',
    'marsha marshall marta martha martin marvin mary maryam maryann marzena mason mateo mathew matt matthew mattie maureen maurice maxim maximiliano',
    'maximino maxine maya meena meera megan mei melanie melinda melissa melvin mia micah michael micheal michele michelle miguel mike mikhail mila mildred',
    'milton ming minh minji minjun minjung minnie minseo mireille miriam mitchell mohamed mohammad mohammed mohan moises molly monica monika monique morris',
    'muhammad mukesh muna mustafa mykola mylene nabil nadege nancy naomi naresh nasra nasser natalia natalie nathalie nathan nathaniel naveen neal neha',
    'neil nellie nelson nestor nevaeh nga nghia ngoc ngozi nguyet nhan nhi nhung nia niamh nicholas nicolas nicole nikhil nikita nikolai nina ning nisha',
    'nitin nkechi nnamdi nneka noah noe nolan noli noor nora norma norman nour oanh obed obinna octavio oleg oleksandr oleksiy olga oliver olivia olu',
    'oluchi olumide oluwafemi oluwaseun oluwatobi omar omolara orlando osama oscar osvaldo otis owen pablo padma padraig paisley pamela pankaj parker',
    'pascual patricia patrick paul paula paulina pauline pavel pedro peggy penelope peng perry peter petro peyton philip phong phu phuc phuong phyllis',
    'pierre piotr pooja poonam porfirio pradeep prakash pramod pranav preeti priscilla priya priyanka qamar qiang qing quang quinn quoc quynh rachel radha',
    'raelynn rafael rahul raj rajesh rakesh ralph ramesh rami ramil ramiro ramon ramona randall randy rani rashad rashid raul ravi raymond reagan rebecca',
    'reese refugio regina reginald rekha renata rene renee renu rex rey reyansh reynaldo rhodora rhonda ricardo richard rick ricky rigoberto riley rita',
    'ritu robert roberta roberto rodel rodney rodolfo rodrigo rogelio roger rohit roland rolando romeo rommel romualdo ron ronald ronnie rosa rose-marie',
    'rosendo rosie ross rowan rowena roy ruben rui ruslan russell ruth ryan ryder rylee ryleigh sabino sachin sadie saeed sagal sahal sahra sai sakura',
    'saleh salem salim sally salvador sam samantha sami samir samuel sandeep sandra sangeeta sanjay sanjeev santiago santos santosh sara sarah sarita',
    'satish saul savita scarlett scott seamus sean sebastian seema segun seoah seojun seoyeon seoyun sergei sergey sergio serhiy seth seun shameka shane',
    'shanequa shanice shanika shaniqua shankar shannon shante shantel shanti sharon shaun sheila shelly sherri sheryl shirley shiva shu shukri siddharth',
    'sidney silas silvestre siobhan siwoo skylar sofia sonia sonya soojin sooyoung sophia sophie stacey stacy stanislav stanley stella stephanie stephen',
    'steven stuart sungho sungmin sunil suresh susan suzanne sylvia sylwia takashi tam tamara tameka tamer tamika tammy tanesha tanisha tanya tao tara',
    'taras tarek tariq tarun tasha tawanda taylor ted temitope teodoro teofilo teresa terrance terrell terrence terri terry thanh thao thelma theodore',
    'theresa thomas thuan thuy tiburcio tien tiffany tim timofey timothy tina ting toan tobi tolu tom tomas tommy toni tony tonya tope tracey tracy trang',
    'travis tremaine trevor trinh troy trung tuan tunde tung tuyet tyler tyrell tyrone ubaldo uche ulises urbano urszula uyen vadim valentin valentina',
    'valeria valerie valery vanessa varun vasyl velma venkat vera vernon veronica vicente vicki vickie victor victoria vidal vihaan vijay vikram viktor',
    'vincent vincenzo vinh vinod viola virgil virginia vishal vitaliy vitaly vivaan vivian vladimir vladislav volodymyr wael waleed walid wallace walter',
    'wanda warren warsame waylon wayne wei weiwei wen wenceslao wendell wendy weronika wesley weston wideline widline wiktoria wilfredo willard william',
    'willie wilma wilmer wioletta wyatt xavier xia xiaohong xiaoli xiaoling xiaomei xiaoming xiaoyan ximena xin xiu xuan yahir yang yaroslav yash yasin',
    'yasir yasser yegor yejun yemi yetunde yevgeny ying yingying yoko yolanda younghee youngsoo yousef youssef yuki yumi yun yuna yuri yuriy yury yusuf',
    'yuying yvonne zachary zaid zamzam zaria zayd zhen zhi ziad zoe zoey zofia zuzanna',
  ]
    .join(' ')
    .split(' '),
);

/** Words that follow a given name in a sentence without being a surname: verbs, pronouns, prepositions, articles, time and chat words. */
const NOT_A_SURNAME: ReadonlySet<string> = new Set([
  'and', 'or', 'nor', 'yet', 'the', 'a', 'an', 'am', 'are', 'is', 'was', 'be', 'been', 'being', 'were', 'has', 'had', 'have', 'does', 'did', 'do', 'got', 'gets',
  'get', 'needs', 'need', 'wants', 'want', 'said', 'says', 'called', 'calls', 'came', 'comes', 'went', 'goes', 'asked', 'asks', 'just', 'also', 'still', 'not',
  'here', 'there', 'today', 'tomorrow', 'yesterday', 'tonight', 'this', 'that', 'these', 'those', 'who', 'what', 'which', 'when', 'where', 'why', 'how', 'if',
  'but', 'so', 'to', 'her', 'his', 'their', 'she', 'he', 'they', 'we', 'you', 'me', 'my', 'our', 'its', 'it', 'in', 'at', 'on', 'for', 'with', 'from', 'of',
  'by', 'about', 'into', 'as', 'up', 'out', 'off', 'back', 'again', 'now', 'then', 'too', 'pulled', 'took', 'takes', 'left', 'missed', 'refused', 'fell',
  'started', 'stopped', 'needed', 'will', 'would', 'can', 'should', 'could', 'might', 'must', 'shall', 'may', 'no', 'yes', 'ok', 'okay', 'thanks', 'thank',
  'pls', 'please', 'asap', 'tues', 'mon', 'wed', 'thurs', 'fri', 'sat', 'sun', 'pm', 'rm', 'room', 'bed', 'pt', 'patient', 'doctor', 'dr', 'mom', 'dad',
  'clean', 'right', 'wrong', 'nice', 'big', 'little', 'whoever', 'and/or',
]);

/** Whether two words typed in lower case read as a given name and a surname ("ruth walters"; not "maria said", "tom and"): the first a given name, the second none and no ordinary word of a sentence. */
export function lowerCaseName(first: string, last: string): boolean {
  return GIVEN_NAMES.has(first) && !GIVEN_NAMES.has(last) && !NOT_A_SURNAME.has(last) && last.length >= 2;
}
