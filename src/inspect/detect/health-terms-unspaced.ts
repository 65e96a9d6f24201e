/**
 * Health terms of the scripts the words pass cannot read word by word:
 * Chinese (no spaces between words), Korean (particles joined to the word:
 * 당뇨약, 혈압약), Russian (endings: диабетом, анализы) and Arabic (the
 * article and conjunctions joined: والسكري). Each term is found wherever it
 * stands, so each is long or specific enough not to sit inside an everyday
 * word (no single syllables such as 약 "medicine", which also means "about").
 * Patients of US clinics write in these languages (the commonest after
 * Spanish, with Vietnamese, Tagalog and Haitian Creole, which the dictionary
 * reads word by word), and Nepali and Hindi. A text without a character of these scripts is not
 * searched. Pure.
 */
import type { HealthTermSpan } from './health-terms-words.js';

const CHINESE = [
  '糖尿病', '高血压', '高血壓', '血压', '血壓', '血糖', '癌症', '肿瘤', '腫瘤', '中风', '中風', '心脏病', '心臟病', '心衰', '心力衰竭', '肾衰', '腎衰', '透析',
  '洗肾', '洗腎', '肺炎', '哮喘', '抑郁', '抑鬱', '焦虑症', '焦慮症', '痴呆', '癡呆', '失智', '帕金森', '癫痫', '癲癇', '骨折', '感染', '发烧', '發燒', '发热',
  '發熱', '咳嗽', '头痛', '頭痛', '胸痛', '腹痛', '肚子痛', '便血', '出血', '呕吐', '嘔吐', '腹泻', '腹瀉', '头晕', '頭暈', '过敏', '過敏', '怀孕', '懷孕', '妊娠',
  '流产', '流產', '手术', '手術', '住院', '出院', '急诊', '急診', '化疗', '化療', '放疗', '放療', '胰岛素', '胰島素', '吃药', '吃藥', '药物', '藥物', '处方', '處方',
  '降压药', '降壓藥', '化验', '化驗', '验血', '驗血', '检查结果', '檢查結果', '肠镜', '腸鏡', '胃镜', '胃鏡', '核磁共振', '心电图', '心電圖', '疫苗', '伤口', '傷口',
  '红肿', '紅腫', '健忘', '记性', '記性', '神经科', '神經科', '转诊', '轉診', '甲状腺', '甲狀腺', '贫血', '貧血', '华法林', '華法林', '二甲双胍', '二甲雙胍', '癌',
];

const KOREAN = [
  '당뇨', '고혈압', '혈압', '위암', '폐암', '유방암', '대장암', '간암', '갑상선', '뇌졸중', '중풍', '심장병', '심부전', '신부전', '투석', '폐렴', '천식', '우울증',
  '불안장애', '치매', '파킨슨', '간질', '골절', '감염', '발열', '기침', '두통', '흉통', '복통', '구토', '설사', '어지럼', '알레르기', '임신', '유산', '수술', '입원',
  '퇴원', '응급실', '항암', '인슐린', '처방', '복용', '혈액 검사', '피검사', '엑스레이', '예방접종', '백신', '통증', '저리', '와파린', '메트포민', '로사르탄',
  '진료', '검사 결과',
];

const RUSSIAN = [
  'диабет', 'давлени', 'гипертони', 'онколог', 'опухол', 'инсульт', 'инфаркт', 'сердечная недостаточность', 'диализ', 'пневмони', 'астм', 'депресси',
  'деменци', 'слабоуми', 'паркинсон', 'эпилепси', 'перелом', 'инфекци', 'кашел', 'кашля', 'болит', 'больниц', 'анализ крови', 'анализы', 'лекарств',
  'таблетк', 'инсулин', 'беременн', 'госпитализ', 'скорой помощ', 'аллерги', 'прививк', 'вакцин', 'рентген', 'щитовидн', 'гемоглобин', 'холестерин',
];

/** Nepali and Hindi (Devanagari: its vowel signs are marks, which the words pass reads as word characters of no letter). */
const DEVANAGARI = [
  'चिनी रोग', 'मधुमेह', 'प्रेसर', 'रक्तचाप', 'औषधि', 'दवाई', 'बुखार', 'ज्वरो', 'खोकी', 'क्यान्सर', 'गर्भवती', 'अस्पताल', 'इन्सुलिन',
];

const ARABIC = [
  'سكري', 'السكر', 'ضغط الدم', 'سرطان', 'درقي', 'ربو', 'اكتئاب', 'خرف', 'صداع', 'حمى', 'سعال', 'إسهال', 'حساسية', 'التهاب', 'إنسولين', 'أنسولين',
  'فحص الدم', 'تحليل الدم', 'نتيجة التحليل', 'حامل', 'دواء', 'أدوية', 'علاج',
];

/** A character of these scripts: CJK ideographs, Hangul, Cyrillic, Arabic, Devanagari's letters (every such text holds some). */
const SCRIPT = /[\u0400-\u04ff\u0600-\u06ff\u0905-\u0939\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]/;

const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');

/** The terms, longest first (at one place the longest wins), Cyrillic in either case. */
const TERMS = new RegExp([...CHINESE, ...KOREAN, ...RUSSIAN, ...DEVANAGARI, ...ARABIC].sort((a, b) => b.length - a.length).map(escape).join('|'), 'giu');

/** The health terms of these scripts in `text`, in the order of the text (none when the text holds none of their characters). */
export function unspacedTerms(text: string): HealthTermSpan[] {
  if (!SCRIPT.test(text)) return [];
  const out: HealthTermSpan[] = [];
  TERMS.lastIndex = 0;
  for (let m = TERMS.exec(text); m; m = TERMS.exec(text)) out.push({ index: m.index, length: m[0].length, term: m[0].toLowerCase().replace(/\s+/g, ' ') });
  TERMS.lastIndex = 0;
  return out;
}
